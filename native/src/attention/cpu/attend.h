// Exact softmax attention on the CPU, accumulated in float32: the reference every method and
// every CUDA kernel is held to.
#pragma once
#include <cstdint>

#include "tensor/kv_cache.h"

namespace adamas::cpu {

// One query head at a decode step: out[D] = softmax(scale * q . K[idx]^T) . V[idx] over the n
// listed positions of KV head kvh, or over positions [0, n) when idx is null.
// scratch holds n floats; on return it holds the attention probabilities.
void attend_decode(float* out, const float* q, const KVView& kv, int kvh, const int32_t* idx, int n,
                   float scale, float* scratch);

// Dense decode step of every query head over positions [0, n): out and q are [n_heads][D].
// Each key and value row is read once for all query heads of its group, and long contexts are
// split into chunks that threads reduce in parallel (flash-decoding: partial max, sum and output
// per chunk, merged at the end).
void attend_decode_dense(float* out, const float* q, const KVView& kv, int n_heads, int n, float scale);

// Full-attention probabilities of one query head over positions [0, n): p = softmax(scale * q . K^T).
void attention_probs(float* p, const float* q, const KVView& kv, int kvh, int n, float scale);

// Dense causal attention of T queries at positions pos0 .. pos0+T-1 over the cache (which already
// holds their keys). q and out are [T][n_heads][D]. Parallel over heads and query blocks.
void attend_prefill(float* out, const float* q, const KVView& kv, int n_heads, int T, int pos0, float scale);

}  // namespace adamas::cpu
