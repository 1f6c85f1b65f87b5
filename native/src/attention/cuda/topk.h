// Top-k selection on the GPU with the methods' tie rule (among equal scores the larger index, the
// more recent token or page, wins) and ascending output: the same sets as cpu/topk.h. Two steps:
// 1. the cut value T: count(better than T) < k <= count(better than or equal to T). Adamas's
//    distance pass reads it off the histogram of its distances (adamas.h: AdamasCut); Quest's
//    float page scores, as order-preserving 32-bit keys in shared memory, and the oracle's token
//    scores, as such keys read from global memory, go through a radix select of 8 bits a pass
//    (one block per ranker);
// 2. an ordered compaction keeps every element better than T and the last k - count(better)
//    equal to it. Adamas spreads a ranker's row over several blocks: each counts its segment,
//    publishes the counts, adds up those of the segments before it (blocks take their segment in
//    the order they start, so every segment waited on has started: no deadlock) and writes its
//    elements at their final slots; Quest and the oracle compact in their one block.
// Every launcher takes a batch of sequences whose lengths n(b) (the current token included) may
// be in device memory; sequence b's lists are at idx + b * idx_batch (elements).
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "attention/cuda/adamas.h"
#include "attention/cuda/decode.h"

namespace adamas::cuda {

// Bytes of scratch adamas_select needs for n_rankers rankers of sequences up to max_n long and
// `batch` sequences. Zero it once; every launch leaves it zeroed.
size_t adamas_select_scratch_bytes(int n_rankers, int max_n, int batch);

// Adamas: idx[r][0, k) = the k past tokens with the smallest dist[r][0, n - 1), ascending, then
// idx[r][k] = n - 1, the current token; cuts as adamas_distances wrote them (the same k).
// dist rows r * dist_stride apart, sequences dist_batch apart.
cudaError_t adamas_select(int32_t* idx, int64_t idx_stride, int64_t idx_batch, const uint16_t* dist,
                          int64_t dist_stride, int64_t dist_batch, const AdamasCut* cuts, void* scratch,
                          int n_rankers, const SeqLengths& n, int max_n, int batch, int k, cudaStream_t stream);

// Quest pages of P positions: of a sequence of length n, pages(n) = (n - 1) / P complete pages
// precede the current one. The k pages with the largest scores[r][0, pages(n)) (NaN ranks as
// -inf), expanded to their positions, ascending, then the positions [pages(n) * P, n) of the
// current page: idx[r][0, k * P + n - pages(n) * P). With list_len, that length is written to
// list_len[b] (the list lengths the attention reads from device memory). Scores of sequence b at
// scores + b * score_batch.
cudaError_t quest_select(int32_t* idx, int64_t idx_stride, int64_t idx_batch, const float* scores,
                         int64_t score_stride, int64_t score_batch, int n_rankers, const SeqLengths& n, int max_n,
                         int k, int page_size, int* list_len, int batch, cudaStream_t stream);

// Oracle: idx[r][0, k) = the k past tokens with the largest scores[r][0, n - 1) (NaN ranks as
// -inf), ascending, then idx[r][k] = n - 1, the current token.
cudaError_t oracle_select(int32_t* idx, int64_t idx_stride, int64_t idx_batch, const float* scores,
                          int64_t score_stride, int64_t score_batch, int n_rankers, const SeqLengths& n, int k,
                          int batch, cudaStream_t stream);

}  // namespace adamas::cuda
