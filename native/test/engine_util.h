// Small helpers of the engine tests (CPU and CUDA): token sequences and method options.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

#include "attention/options.h"
#include "model/engine.h"

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

// Greedy-free decode of given tokens from an empty cache: the logits of the prefill's last position,
// then of every step, concatenated ([next.size() + 1][vocab]).
inline std::vector<float> step_logits(Engine& e, const std::vector<int32_t>& prompt, const std::vector<int32_t>& next) {
  const int V = e.config().vocab_size;
  std::vector<float> all(size_t(V) * (next.size() + 1));
  e.reset();
  e.prefill(prompt.data(), int(prompt.size()), all.data());
  for (size_t i = 0; i < next.size(); ++i) e.decode(next[i], &all[(i + 1) * V]);
  return all;
}

}  // namespace adamas::test
