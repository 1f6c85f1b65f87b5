// Quest on the GPU (semantics: cpu/quest.cpp): per KV head, page and channel the max and min of
// the keys, kept in step with the KV cache, and the page scores U = sum_d max(q_d max_d, q_d min_d).
//
// Bounds are fp16 (extrema of fp16 keys are exact), channel-major [n_kv_heads][D][page_capacity]:
// a block of the score kernel streams a tile of 64 pages of one KV head through shared memory,
// 16 channels at a time (asynchronous copies, several chunks in flight), and each thread sums
// one page for each query head of the group at once, over d = 0 .. D-1 in order, with fp32
// products and adds that the compiler may not fuse; per-KV-head scores add the group's sums in
// head order. The scores, and so the
// selection, are bit-identical to the CPU's.
#pragma once
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "attention/cuda/decode.h"

namespace adamas::cuda {

// Pages a bounds array must hold for a cache of `capacity` positions (whole tiles of 64).
inline int quest_page_capacity(int capacity, int page_size) {
  const int pages = (capacity + page_size - 1) / page_size;
  return (pages + 63) / 64 * 64;
}

// The keys of positions [pos, pos + n) were written: a page that starts among them takes its
// first key as both bounds, every later key widens them (a partial last page holds the extrema
// of the tokens it has so far). Bounds of page p, channel d: page_max[(kvh * D + d) * page_cap + p].
// With pos_dev, sequence b's positions start at pos_dev[b] + pos (read when the kernel runs).
// Sequences of a batch: keys at kv + b * kv_stride, bounds at page_max / page_min + b * bounds_stride.
cudaError_t quest_update_bounds(__half* page_max, __half* page_min, int page_cap, const DeviceKV& kv, int page_size,
                                int pos, int n, cudaStream_t stream, const int* pos_dev = nullptr, int batch = 1,
                                int64_t kv_stride = 0, int64_t bounds_stride = 0);

// Where a batch's Quest buffers are: sequence b's queries at q + b * q_stride (floats), bounds at
// + b * bounds_stride (elements), scores at + b * score_batch (floats).
struct QuestBatch {
  int size = 1;
  int64_t q_stride = 0, bounds_stride = 0, score_batch = 0;
};

// scores[r * score_stride + p] for the complete pages p < (n(b) - 1) / page_size of each sequence:
// r a query head with q[r][D], or with per_kv_head a KV head, the sum of its group's scores (in
// head order, from 0). max_n bounds every n(b) (it sizes the grid). page_cap a multiple of 64 (as
// quest_page_capacity gives), bounds_stride a multiple of 8, the bounds 16-byte aligned.
cudaError_t quest_page_scores(float* scores, int64_t score_stride, const float* q, const __half* page_max,
                              const __half* page_min, int page_cap, int n_heads, int n_kv_heads, int head_dim,
                              const SeqLengths& n, int max_n, int page_size, bool per_kv_head, const QuestBatch& batch,
                              cudaStream_t stream);

// One sequence with n_pages complete pages (the form of the kernel tests).
inline cudaError_t quest_page_scores(float* scores, int64_t score_stride, const float* q, const __half* page_max,
                                     const __half* page_min, int page_cap, int n_heads, int n_kv_heads, int head_dim,
                                     int n_pages, bool per_kv_head, cudaStream_t stream) {
  const int n = n_pages + 1;  // page size 1: n - 1 complete pages
  return quest_page_scores(scores, score_stride, q, page_max, page_min, page_cap, n_heads, n_kv_heads, head_dim,
                           SeqLengths{nullptr, n}, n, 1, per_kv_head, QuestBatch{}, stream);
}

}  // namespace adamas::cuda
