// The oracle on the GPU (semantics: cpu/oracle.cpp): the true q . k score of every past token.
// One thread per (KV head, key) for every query head of the group at once (the key read once):
// the key's fp16 elements, 8 at a time, widened to fp32 (exactly), each score a chain of fmaf over
// d = 0 .. D-1 in order from 0, the group's scores added in head order for per-KV-head selection:
// the CPU's bits, so the selection (oracle_select, topk.h) is too.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "attention/cuda/decode.h"

namespace adamas::cuda {

// scores[r * score_stride + t] for the past tokens t < n_past: r a query head with q[r][D], or
// with per_kv_head a KV head, the sum of its group's scores. head_dim a multiple of 8, groups of
// up to 8 query heads.
// Sequences of a batch: lengths n(b) (the current token included; past tokens n(b) - 1, at most
// max_n - 1), queries at q + b * q_stride, keys at kv + b * kv_stride, scores at + b * score_batch.
cudaError_t oracle_scores(float* scores, int64_t score_stride, const float* q, const DeviceKV& kv, int n_heads,
                          const SeqLengths& n, int max_n, bool per_kv_head, int batch, int64_t q_stride,
                          int64_t kv_stride, int64_t score_batch, cudaStream_t stream);

// One sequence with n_past past tokens.
inline cudaError_t oracle_scores(float* scores, int64_t score_stride, const float* q, const DeviceKV& kv, int n_heads,
                                 int n_past, bool per_kv_head, cudaStream_t stream) {
  return oracle_scores(scores, score_stride, q, kv, n_heads, SeqLengths{nullptr, n_past + 1}, n_past + 1, per_kv_head,
                       1, 0, 0, 0, stream);
}

}  // namespace adamas::cuda
