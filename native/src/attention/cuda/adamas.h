// Adamas on the GPU (semantics: cpu/adamas.cpp, cpu/codes.h): 2-bit codes of the transformed
// keys kept beside the KV cache, and the exact distance from each query head's code to every past
// key's code. Codes are bit-identical to the CPU's, so the selection is too.
//
// Encoding, one warp per vector: each lane holds D/32 consecutive elements; the butterflies of
// y = H x / sqrt(D) (Sylvester order) run in registers and across lanes by shuffles, doing the
// CPU's fp32 operations in the CPU's order; then 3 thresholds bucketize each element and the
// codes are packed 2 bits an element LSB-first (element i in bits 2i..2i+1 of 16-bit word i/8):
// D/4 bytes a code.
// Distances: one thread per key code, read as 64-bit words. With x = q ^ k, lo and hi the low and
// high bit of each field and m = the query's (hi ^ lo):
//   L1 = popc(lo) + 2 popc(hi & ~(lo & m)),  L2 = popc(lo) + 4 (popc(hi) + popc(hi & lo & ~m) - popc(hi & lo & m))
// (derivation in cpu/codes.cpp). The distance pass also counts each ranker's distances (a
// histogram per block in shared memory, added to the global one), and the last of its blocks to
// finish reads the cut of the top-k off the histogram (topk.h: AdamasCut) and clears it, so the
// selection that follows is only a compaction.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "attention/cuda/decode.h"
#include "attention/options.h"

namespace adamas::cuda {

struct AdamasCodes {
  float thresholds[3] = {-10.0f, 0.0f, 10.0f};  // increasing; a value on a threshold goes below it
  bool hadamard = true;                          // false: bucketize x itself
};

// Bytes of one packed code.
inline int adamas_code_bytes(int head_dim) { return head_dim / 4; }

// Histogram bins of a ranker: its largest possible distance + 1, i.e. 3 (L1) or 9 (L2) per element,
// summed over heads_summed query heads (per-KV-head selection sums its group's distances).
inline int adamas_distance_bins(int head_dim, Distance metric, int heads_summed) {
  return (metric == Distance::L2 ? 9 : 3) * head_dim * heads_summed + 1;
}

// The cut of a ranker's top-k smallest distances: every distance below `cut` is selected
// (`better` of them) and, of the distances equal to it, all but the `skip` earliest. k = 0: cut -1.
struct AdamasCut {
  int32_t cut, better, skip, unused;
};

// Codes of the keys at positions [pos, pos + n) of every KV head: codes + kvh * code_head_stride
// + t * adamas_code_bytes(D) (bytes), the layout of the KV cache. With pos_dev, sequence b's
// first position is pos_dev[b] + pos (read when the kernel runs: a decode step's token under a
// graph). Sequences of a batch: keys at kv + b * kv_stride, codes at codes + b * code_stride.
cudaError_t adamas_encode_keys(uint8_t* codes, int64_t code_head_stride, const DeviceKV& kv, int pos, int n,
                               const AdamasCodes& c, cudaStream_t stream, const int* pos_dev = nullptr,
                               int batch = 1, int64_t kv_stride = 0, int64_t code_stride = 0);

// Codes of the fp32 query heads q[n_heads][D] into codes[n_heads][adamas_code_bytes(D)].
cudaError_t adamas_encode_queries(uint8_t* codes, const float* q, int n_heads, int head_dim, const AdamasCodes& c,
                                  cudaStream_t stream);

// Where a batch's Adamas buffers are: sequence b's queries at q + b * q_stride (floats), codes at
// codes + b * code_stride (bytes), distance rows at dist + b * dist_batch (elements); histograms,
// cuts and counters per sequence (the layout of adamas_scratch).
struct AdamasBatch {
  int size = 1;
  int64_t q_stride = 0, code_stride = 0, dist_batch = 0;
};

// The distance pass's scratch for `rankers` rankers of `bins` bins and n_kv KV heads, per
// sequence: hist [rankers][bins] and done [n_kv], zero at rest (each pass leaves them zero), and
// the cuts [rankers] it writes.
struct AdamasScratch {
  int32_t* hist = nullptr;
  int* done = nullptr;
  AdamasCut* cuts = nullptr;
};

// Encodes the query heads and measures their distances to the key codes of the past positions
// [0, n(b) - 1) of each sequence. Rankers: the query heads (dist row h), or with per_kv_head the
// KV heads (row kvh, the sum over the group's heads). dist[r * dist_stride + j] (dist_stride a
// multiple of 8). Then the cut of each ranker's k smallest (k <= n(b) - 1), in scratch.cuts.
// max_n bounds every n(b): it sizes the grid (the capacity, under a graph).
cudaError_t adamas_distances(uint16_t* dist, int64_t dist_stride, const AdamasScratch& scratch, const float* q,
                             const uint8_t* codes, int64_t code_head_stride, int n_heads, int n_kv_heads, int head_dim,
                             const SeqLengths& n, int max_n, int k, bool per_kv_head, Distance metric,
                             const AdamasCodes& c, const AdamasBatch& batch, cudaStream_t stream);

}  // namespace adamas::cuda
