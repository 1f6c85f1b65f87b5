// Small helpers of the engine tests (CPU and CUDA): token sequences and method options.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

#include "attention/options.h"

namespace adamas::test {

// n token ids drawn uniformly from [lo, vocab).
inline std::vector<int32_t> random_tokens(std::mt19937& rng, int n, int vocab, int lo = 0) {
  std::uniform_int_distribution<int32_t> d(lo, vocab - 1);
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (int32_t& x : t) x = d(rng);
  return t;
}

inline AttentionOptions method(Method m, int budget) {
  AttentionOptions o;
  o.method = m;
  o.budget = budget;
  return o;
}

}  // namespace adamas::test
