// The part of a sparse attention method that chooses tokens. One Selector per layer keeps that
// layer's metadata (page bounds, key codes, ...) in step with the KV cache.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "attention/options.h"
#include "tensor/kv_cache.h"

namespace adamas {

// Token positions each query head attends to at one decode step (ascending, current included).
struct Selection {
  std::vector<std::vector<int32_t>> heads;
};

class Selector {
 public:
  virtual ~Selector() = default;
  // Keys of positions [pos, pos + n) were written to the cache (kv.length >= pos + n).
  virtual void append(const KVView& kv, int pos, int n) = 0;
  // The dense prefill is over; called before the first decode step that follows it.
  virtual void prefill_done(const KVView& kv) { (void)kv; }
  // q: post-RoPE queries [n_heads][D] of the token at position kv.length - 1.
  // Only called when kv.length > budget. Fills sel.heads[h] for every query head.
  virtual void select(const float* q, const KVView& kv, Selection& sel) = 0;
};

// The CPU selector for opts.method (nullptr for Method::Full).
std::unique_ptr<Selector> make_cpu_selector(const AttentionOptions& opts, int n_heads, int n_kv_heads,
                                            int head_dim);

}  // namespace adamas
