#include <algorithm>
#include <cmath>

#include <cub/block/block_scan.cuh>

#include "attention/cuda/adamas.h"
#include "attention/cuda/dependent_launch.cuh"
#include "attention/cuda/dispatch.cuh"

namespace adamas::cuda {

namespace {

constexpr int kEncodeThreads = 256;  // one warp per vector
constexpr int kDistThreads = 256;
constexpr int kDistMinBlocks = 4;    // per multiprocessor: registers <= 64
constexpr int kDistMinTiles = 2;     // tiles of kDistThreads codes a block takes at least
constexpr uint64_t kLowBits = 0x5555555555555555ull;

struct Params {
  float thresholds[3];
  float scale;  // 1 / sqrt(D), as the CPU computes it
  bool hadamard;
};

Params params(const AdamasCodes& c, int head_dim) {
  return Params{{c.thresholds[0], c.thresholds[1], c.thresholds[2]}, 1.0f / std::sqrt(float(head_dim)), c.hadamard};
}

// x[E]: elements lane*E .. lane*E+E-1 of a vector of D = 32 E, E = 2 or 4.
template <int E>
__device__ __forceinline__ void load_elements(float (&x)[E], const float* p) {
  if constexpr (E == 4) {
    const float4 v = *reinterpret_cast<const float4*>(p);
    x[0] = v.x, x[1] = v.y, x[2] = v.z, x[3] = v.w;
  } else {
    const float2 v = *reinterpret_cast<const float2*>(p);
    x[0] = v.x, x[1] = v.y;
  }
}

template <int E>
__device__ __forceinline__ void load_elements(float (&x)[E], const __half* p) {
  const __half2* h = reinterpret_cast<const __half2*>(p);
#pragma unroll
  for (int i = 0; i < E / 2; ++i) {
    const float2 v = __half22float2(h[i]);
    x[2 * i] = v.x, x[2 * i + 1] = v.y;
  }
}

// The warp's vector (x as in load_elements) -> its packed code, 32-bit word w = elements
// 16w .. 16w+15, written to words[w] by one lane each.
template <int D>
__device__ __forceinline__ void warp_encode(float (&x)[D / 32], const Params& p, uint32_t* words) {
  constexpr int E = D / 32, kLanesPerWord = 16 / E;
  const int lane = threadIdx.x % 32;
  if (p.hadamard) {
#pragma unroll
    for (int h = 1; h < E; h *= 2)  // butterflies within the lane
#pragma unroll
      for (int j = 0; j < E; ++j)
        if (!(j & h)) {
          const float a = x[j], b = x[j + h];
          x[j] = a + b;
          x[j + h] = a - b;
        }
#pragma unroll
    for (int h = E; h < D; h *= 2) {  // element lane*E + j has bit h set iff the lane has bit h/E
      const bool upper = lane & (h / E);
#pragma unroll
      for (int j = 0; j < E; ++j) {
        const float other = __shfl_xor_sync(0xffffffffu, x[j], h / E);
        x[j] = upper ? other - x[j] : x[j] + other;
      }
    }
#pragma unroll
    for (int j = 0; j < E; ++j) x[j] *= p.scale;
  }
  uint32_t w = 0;
#pragma unroll
  for (int j = 0; j < E; ++j) {
    const uint32_t c = (x[j] > p.thresholds[0]) + (x[j] > p.thresholds[1]) + (x[j] > p.thresholds[2]);
    w |= c << (2 * (E * (lane % kLanesPerWord) + j));
  }
#pragma unroll
  for (int off = 1; off < kLanesPerWord; off *= 2) w |= __shfl_xor_sync(0xffffffffu, w, off);
  if (lane % kLanesPerWord == 0) words[lane / kLanesPerWord] = w;
}

// Vector v of n_vectors: head v / per_head, position pos (+ pos_dev[b]) + v % per_head, of sequence
// b = blockIdx.y.
template <int D, class T>
__global__ void __launch_bounds__(kEncodeThreads) encode_kernel(uint8_t* codes, int64_t code_head_stride, const T* x,
                                                                int64_t head_stride, int pos, const int* pos_dev,
                                                                int per_head, int n_vectors, int64_t x_batch,
                                                                int64_t code_batch, const Params p) {
  const int v = blockIdx.x * (kEncodeThreads / 32) + threadIdx.x / 32;
  if (v >= n_vectors) return;  // whole warps leave
  const int64_t b = blockIdx.y;
  const int head = v / per_head, t = pos + (pos_dev ? pos_dev[b] : 0) + v % per_head;
  float e[D / 32];
  load_elements(e, x + b * x_batch + head * head_stride + int64_t(t) * D + threadIdx.x % 32 * (D / 32));
  warp_encode<D>(e, p, reinterpret_cast<uint32_t*>(codes + b * code_batch + head * code_head_stride + int64_t(t) * (D / 4)));
}

// Words w and w + 1 at once: every term is a popcount of bits on even positions only, so the
// terms of word w + 1 shifted to the odd positions share one popcount with those of word w.
template <int W, bool kL2>
__device__ __forceinline__ int code_distance(const uint64_t* q, const uint64_t* m, const uint64_t (&k)[W]) {
  static_assert(W % 2 == 0, "codes of whole pairs of 64-bit words");
  int d = 0;
#pragma unroll
  for (int w = 0; w < W; w += 2) {
    const uint64_t x0 = q[w] ^ k[w], x1 = q[w + 1] ^ k[w + 1];
    const uint64_t lo0 = x0 & kLowBits, hi0 = (x0 >> 1) & kLowBits;
    const uint64_t lo1 = x1 & kLowBits, hi1 = (x1 >> 1) & kLowBits;
    const int lo = __popcll(lo0 | lo1 << 1);
    if constexpr (kL2) {
      const uint64_t both0 = hi0 & lo0, both1 = hi1 & lo1;
      d += lo + 4 * (__popcll(hi0 | hi1 << 1) + __popcll((both0 & ~m[w]) | (both1 & ~m[w + 1]) << 1) -
                     __popcll((both0 & m[w]) | (both1 & m[w + 1]) << 1));
    } else {
      d += lo + 2 * __popcll((hi0 & ~(lo0 & m[w])) | (hi1 & ~(lo1 & m[w + 1])) << 1);
    }
  }
  return d;
}

struct DistArgs {
  uint16_t* dist;
  int64_t dist_stride, dist_batch;
  AdamasScratch scratch;
  const float* q;
  int64_t q_batch;
  const uint8_t* codes;
  int64_t code_head_stride, code_batch;
  const int* n_dev;  // sequence lengths (the current token included), or n for all
  int n;
  int n_kv, group;
  int bins;          // per ranker
  int k;             // the top-k's k
  bool per_kv_head;
  Params p;
};

using CutScan = cub::BlockScan<int, kDistThreads>;

// This thread's part of [0, bins) for a team of `team` threads: an odd number of bins, so that
// the team's reads of shared memory (stride `per`) fall in distinct banks.
struct BinPart {
  int i0, i1;
};

__device__ __forceinline__ BinPart bin_part(int bins, int team, int t) {
  const int per = (bins + team - 1) / team | 1;
  const int i0 = min(bins, t * per);
  return BinPart{i0, min(bins, i0 + per)};
}

// The cut of the k smallest in h[part], the thread's part of a histogram whose counts before it
// are `before`, when the k-th falls in it.
__device__ __forceinline__ AdamasCut cut_in(const int32_t* h, BinPart part, int before, int k) {
  int acc = before;
  for (int i = part.i0; i < part.i1; ++i) {
    const int x = h[i];
    if (acc + x >= k) return AdamasCut{i, acc, x - (k - acc), 0};
    acc += x;
  }
  return AdamasCut{-1, 0, 0, 0};  // not reached
}

// Block (x, kvh, b): the x-th chunk of sequence b's past positions (the grid's x splits them
// evenly, chunks a multiple of 32 long) for KV head kvh, against the codes of the group's query
// heads (encoded by the block itself, one warp each). The grid is one wave where the shape allows
// it; a block walks its chunk a tile of kDistThreads codes at a time, the next tile's loads in
// flight while the current one is measured.
template <int D, int G, bool kL2>
__global__ void __launch_bounds__(kDistThreads, kDistMinBlocks) distance_kernel(const DistArgs a) {
  constexpr int kWords = D / 32, kVec = kWords / 2;  // 64-bit words, 16-byte loads per code
  extern __shared__ int32_t s_hist[];                // [rows][bins]
  __shared__ uint64_t s_q[G][kWords], s_m[G][kWords];
  __shared__ typename CutScan::TempStorage storage;
  __shared__ AdamasCut s_cut;
  __shared__ bool s_last;
  wait_for_prior_grids();  // the codes, the query and the scratch are the stream's before this
  allow_dependent_grids();
  const int kvh = blockIdx.y, b = blockIdx.z, g = a.group, h0 = kvh * g, tid = threadIdx.x;
  const int rows = a.per_kv_head ? 1 : g, rankers = a.per_kv_head ? a.n_kv : a.n_kv * g;
  const int r0 = a.per_kv_head ? kvh : h0;  // this block's first ranker
  const int n_past = max((a.n_dev ? a.n_dev[b] : a.n) - 1, 0);
  const int chunk = ((n_past + int(gridDim.x) - 1) / int(gridDim.x) + 31) / 32 * 32;
  const int c0 = min(n_past, int(blockIdx.x) * chunk), c1 = min(n_past, c0 + chunk);

  const uint8_t* codes = a.codes + b * a.code_batch + kvh * a.code_head_stride;
  auto load = [&](uint4 (&raw)[kVec], int j) {
#pragma unroll
    for (int i = 0; i < kVec; ++i)
      raw[i] = j < c1 ? __ldcs(reinterpret_cast<const uint4*>(codes + int64_t(j) * (D / 4)) + i)
                      : make_uint4(0, 0, 0, 0);
  };
  uint4 cur[kVec];
  load(cur, c0 + tid);  // in flight while the queries are encoded
  int32_t* hist = a.scratch.hist + (int64_t(b) * rankers + r0) * a.bins;
  if (c0 < c1) {
    for (int i = tid; i < rows * a.bins; i += kDistThreads) s_hist[i] = 0;
    const int warp = tid / 32, lane = tid % 32;
    if (warp < g) {
      float e[D / 32];
      load_elements(e, a.q + b * a.q_batch + (h0 + warp) * D + lane * (D / 32));
      warp_encode<D>(e, a.p, reinterpret_cast<uint32_t*>(s_q[warp]));
      __syncwarp();
      if (lane < kWords) s_m[warp][lane] = (s_q[warp][lane] ^ (s_q[warp][lane] >> 1)) & kLowBits;
    }
    __syncthreads();

    uint16_t* dist = a.dist + b * a.dist_batch;
    for (int j = c0 + tid; j - tid < c1; j += kDistThreads) {
      uint4 next[kVec];
      load(next, j + kDistThreads);
      if (j < c1) {
        uint64_t kc[kWords];
#pragma unroll
        for (int i = 0; i < kVec; ++i) {
          kc[2 * i] = uint64_t(cur[i].x) | uint64_t(cur[i].y) << 32;
          kc[2 * i + 1] = uint64_t(cur[i].z) | uint64_t(cur[i].w) << 32;
        }
        int sum = 0;
#pragma unroll
        for (int h = 0; h < G; ++h) {
          if (h >= g) break;
          const int d = code_distance<kWords, kL2>(s_q[h], s_m[h], kc);
          if (a.per_kv_head) {
            sum += d;
          } else {
            dist[(h0 + h) * a.dist_stride + j] = uint16_t(d);
            atomicAdd(&s_hist[h * a.bins + d], 1);
          }
        }
        if (a.per_kv_head) {
          dist[kvh * a.dist_stride + j] = uint16_t(sum);
          atomicAdd(&s_hist[sum], 1);
        }
      }
#pragma unroll
      for (int i = 0; i < kVec; ++i) cur[i] = next[i];
    }
    __syncthreads();
    for (int i = tid; i < rows * a.bins; i += kDistThreads)
      if (s_hist[i]) atomicAdd(&hist[i], s_hist[i]);
  }

  // The last block of (b, kvh) to finish reads its rankers' cuts off the complete histograms.
  int* done = a.scratch.done + b * a.n_kv + kvh;
  __threadfence();
  __syncthreads();
  if (tid == 0) s_last = atomicAdd(done, 1) == int(gridDim.x) - 1;
  __syncthreads();
  if (!s_last) return;
  __threadfence();
  // the histograms into shared memory (all loads in flight at once), cleared for the next pass
  const int total = rows * a.bins;
  for (int base = 0; base < total; base += 8 * kDistThreads) {
    int32_t v[8];
#pragma unroll
    for (int u = 0; u < 8; ++u) {
      const int i = base + u * kDistThreads + tid;
      v[u] = i < total ? __ldcg(hist + i) : 0;
    }
#pragma unroll
    for (int u = 0; u < 8; ++u) {
      const int i = base + u * kDistThreads + tid;
      if (i < total) {
        s_hist[i] = v[u];
        hist[i] = 0;
      }
    }
  }
  if (tid == 0) {
    s_cut = AdamasCut{-1, 0, 0, 0};  // k = 0 (or more than there are): none
    *done = 0;
  }
  __syncthreads();
  AdamasCut* cuts = a.scratch.cuts + int64_t(b) * rankers + r0;
  if (rows == 1) {  // the whole block on one histogram
    const BinPart part = bin_part(a.bins, kDistThreads, tid);
    int count = 0;
    for (int i = part.i0; i < part.i1; ++i) count += s_hist[i];
    int before = 0;
    CutScan(storage).ExclusiveSum(count, before);
    if (a.k > 0 && before < a.k && before + count >= a.k) s_cut = cut_in(s_hist, part, before, a.k);
    __syncthreads();
    if (tid == 0) cuts[0] = s_cut;
  } else {  // a warp a histogram (rows <= 8 warps)
    const int warp = tid / 32, lane = tid % 32;
    if (warp < rows) {
      const int32_t* h = s_hist + warp * a.bins;
      const BinPart part = bin_part(a.bins, 32, lane);
      int count = 0;
      for (int i = part.i0; i < part.i1; ++i) count += h[i];
      int incl = count;
#pragma unroll
      for (int off = 1; off < 32; off *= 2) {
        const int o = __shfl_up_sync(0xffffffffu, incl, off);
        if (lane >= off) incl += o;
      }
      const int before = incl - count;
      const bool here = a.k > 0 && before < a.k && incl >= a.k;
      if (here) cuts[warp] = cut_in(h, part, before, a.k);
      if (!__any_sync(0xffffffffu, here) && lane == 0) cuts[warp] = AdamasCut{-1, 0, 0, 0};
    }
  }
}

}  // namespace

cudaError_t adamas_encode_keys(uint8_t* codes, int64_t code_head_stride, const DeviceKV& kv, int pos, int n,
                               const AdamasCodes& c, cudaStream_t stream, const int* pos_dev, int batch,
                               int64_t kv_stride, int64_t code_stride) {
  if (n <= 0) return cudaSuccess;
  if (batch < 1) return cudaErrorInvalidValue;
  const int vectors = kv.n_kv_heads * n;
  const dim3 grid(ceil_div(vectors, kEncodeThreads / 32), batch);
  ADAMAS_DISPATCH_HEAD_DIM(kv.head_dim, D, {
    encode_kernel<D, __half><<<grid, kEncodeThreads, 0, stream>>>(codes, code_head_stride, kv.k, kv.head_stride, pos,
                                                                   pos_dev, n, vectors, kv_stride, code_stride,
                                                                   params(c, D));
  })
  return cudaGetLastError();
}

cudaError_t adamas_encode_queries(uint8_t* codes, const float* q, int n_heads, int head_dim, const AdamasCodes& c,
                                  cudaStream_t stream) {
  const int blocks = ceil_div(n_heads, kEncodeThreads / 32);
  ADAMAS_DISPATCH_HEAD_DIM(head_dim, D, {
    encode_kernel<D, float><<<blocks, kEncodeThreads, 0, stream>>>(codes, D / 4, q, D, 0, nullptr, 1, n_heads, 0, 0,
                                                                   params(c, D));
  })
  return cudaGetLastError();
}

cudaError_t adamas_distances(uint16_t* dist, int64_t dist_stride, const AdamasScratch& scratch, const float* q,
                             const uint8_t* codes, int64_t code_head_stride, int n_heads, int n_kv_heads, int head_dim,
                             const SeqLengths& n, int max_n, int k, bool per_kv_head, Distance metric,
                             const AdamasCodes& c, const AdamasBatch& batch, cudaStream_t stream) {
  if (n_kv_heads < 1 || n_heads % n_kv_heads != 0 || dist_stride % 8 != 0 || batch.size < 1 || max_n < 1 || k < 0)
    return cudaErrorInvalidValue;
  const int group = n_heads / n_kv_heads;
  const int bins = adamas_distance_bins(head_dim, metric, per_kv_head ? group : 1);
  DistArgs a{dist, dist_stride, batch.dist_batch, scratch, q, batch.q_stride, codes, code_head_stride,
             batch.code_stride, n.dev, n.n, n_kv_heads, group, bins, k, per_kv_head, params(c, head_dim)};
  const size_t smem = sizeof(int32_t) * size_t(per_kv_head ? 1 : group) * bins;
  ADAMAS_DISPATCH_HEAD_DIM(head_dim, D, ADAMAS_DISPATCH_GROUP_BOUND(group, G, {
    auto kernel = metric == Distance::L2 ? distance_kernel<D, G, true> : distance_kernel<D, G, false>;
    if (smem > 48 * 1024)
      ADAMAS_CUDA_TRY(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)));
    // the grid from the bound (so that it does not change with the lengths): one wave where the
    // (KV head, sequence) pairs leave room for it, chunks of at least kDistMinTiles tiles
    int per_sm = 0;
    ADAMAS_CUDA_TRY(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, kDistThreads, smem));
    const int pairs = n_kv_heads * batch.size, wave = std::max(per_sm, 1) * sm_count();
    const int chunks = std::max(1, std::min(wave / pairs, ceil_div(max_n - 1, kDistThreads * kDistMinTiles)));
    ADAMAS_CUDA_TRY(launch_dependent(kernel, dim3(chunks, n_kv_heads, batch.size), dim3(kDistThreads), smem, stream, a));
  }))
  return cudaSuccess;
}

}  // namespace adamas::cuda
