// Top-k selection on the GPU, one block per ranker, with the methods' tie rule (among equal scores
// the larger index, the more recent token or page, wins) and ascending output: the same sets as
// cpu/topk.h. Two steps:
// 1. the cut value T: count(better than T) < k <= count(better than or equal to T). Adamas reads
//    it off the histogram of its distances (small integers: a counting select, adamas.h); Quest's
//    float page scores, as order-preserving 32-bit keys in shared memory, and the oracle's token
//    scores, as such keys read from global memory, go through a radix select of 8 bits a pass;
// 2. one ordered compaction (each thread a contiguous segment, a block-wide prefix sum of the
//    counts) keeps every element better than T and the last k - count(better) equal to it.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace adamas::cuda {

// Adamas: idx[r][0, k) = the k past tokens with the smallest dist[r][0, n_past), ascending, then
// idx[r][k] = n_past, the current token. dist and hist as adamas_distances left them.
cudaError_t adamas_select(int32_t* idx, int64_t idx_stride, const uint16_t* dist, int64_t dist_stride,
                          const int32_t* hist, int bins, int n_rankers, int n_past, int k, cudaStream_t stream);

// Quest: the k pages with the largest scores[r][0, n_pages) (NaN ranks as -inf), expanded to their
// positions, ascending, then the positions [n_pages * page_size, n) of the current page:
// idx[r][0, k * page_size + n - n_pages * page_size).
cudaError_t quest_select(int32_t* idx, int64_t idx_stride, const float* scores, int64_t score_stride, int n_rankers,
                         int n_pages, int k, int page_size, int n, cudaStream_t stream);

// Oracle: idx[r][0, k) = the k past tokens with the largest scores[r][0, n_past) (NaN ranks as
// -inf), ascending, then idx[r][k] = n_past, the current token.
cudaError_t oracle_select(int32_t* idx, int64_t idx_stride, const float* scores, int64_t score_stride, int n_rankers,
                          int n_past, int k, cudaStream_t stream);

// Streaming: one list idx[0, budget) = [0, sink') then the budget - sink' most recent positions
// of n, sink' = min(sink, budget - 1); budget >= n gives [0, n).
cudaError_t streaming_select(int32_t* idx, int n, int budget, int sink, cudaStream_t stream);

}  // namespace adamas::cuda
