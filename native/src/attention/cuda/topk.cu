#include <cub/block/block_scan.cuh>

#include "attention/cuda/dispatch.cuh"
#include "attention/cuda/topk.h"

namespace adamas::cuda {

namespace {

constexpr int kThreads = 512;
using Scan = cub::BlockScan<unsigned long long, kThreads>;

// This thread's contiguous part [i0, i1) of [0, m), parts a multiple of `align` long.
struct Segment {
  int i0, i1;
};

__device__ __forceinline__ Segment segment(int m, int align) {
  const int per = ((m + kThreads - 1) / kThreads + align - 1) / align * align;
  const int i0 = min(m, int(threadIdx.x) * per);
  return Segment{i0, min(m, i0 + per)};
}

enum Class { kWorse = 0, kTie = 1, kBetter = 2 };

// visit(seg, f) calls f(i, class of i) for i in seg, ascending. Calls emit(slot, i) for the k
// selected elements: all better than the cut and the last k - count(better) ties.
template <class Visit, class Emit>
__device__ void compact(Segment seg, int k, Visit visit, Emit emit, Scan::TempStorage& storage) {
  uint32_t better = 0, ties = 0;
  visit(seg, [&](int, int c) {
    better += c == kBetter;
    ties += c == kTie;
  });
  unsigned long long before, total;
  Scan(storage).ExclusiveSum((static_cast<unsigned long long>(better) << 32) | ties, before, total);
  const int skip = int(total & 0xffffffffu) - (k - int(total >> 32));  // the earliest ties left out
  int b = int(before >> 32), t = int(before & 0xffffffffu);
  visit(seg, [&](int i, int c) {
    if (c == kBetter) {
      emit(b++ + max(0, t - skip), i);
    } else if (c == kTie) {
      if (t >= skip) emit(b + t - skip, i);
      ++t;
    }
  });
}

__global__ void __launch_bounds__(kThreads) adamas_select_kernel(int32_t* idx, int64_t idx_stride,
                                                                 const uint16_t* dist, int64_t dist_stride,
                                                                 const int32_t* hist, int bins, int n_past, int k) {
  __shared__ Scan::TempStorage storage;
  __shared__ int s_cut;
  const int r = blockIdx.x;
  int32_t* out = idx + r * idx_stride;
  if (threadIdx.x == 0) out[k] = n_past;
  if (k == 0) return;

  // the cut: the smallest distance T with count(dist <= T) >= k
  const int32_t* h = hist + int64_t(r) * bins;
  const Segment bs = segment(bins, 1);
  unsigned long long count = 0, before;
#pragma unroll 4
  for (int b = bs.i0; b < bs.i1; ++b) count += h[b];
  Scan(storage).ExclusiveSum(count, before);
  if (before < k && before + count >= k) {
    unsigned long long acc = before;
    for (int b = bs.i0; b < bs.i1; ++b) {
      acc += h[b];
      if (acc >= k) {
        s_cut = b;
        break;
      }
    }
  }
  __syncthreads();
  const int cut = s_cut;

  const uint16_t* row = dist + r * dist_stride;
  auto visit = [&](Segment s, auto f) {  // 8 distances a 16-byte load (rows are padded to 8)
    for (int i = s.i0; i < s.i1; i += 8) {
      const uint4 w = *reinterpret_cast<const uint4*>(row + i);
      const uint16_t* v = reinterpret_cast<const uint16_t*>(&w);
#pragma unroll
      for (int e = 0; e < 8; ++e)
        if (i + e < s.i1) f(i + e, v[e] < cut ? kBetter : v[e] == cut ? kTie : kWorse);
    }
  };
  compact(segment(n_past, 8), k, visit, [&](int slot, int i) { out[slot] = i; }, storage);
}

// Order-preserving key of a score: larger score, larger key; NaN as -inf; -0 as +0.
__device__ __forceinline__ uint32_t score_key(float f) {
  if (isnan(f)) f = -INFINITY;
  if (f == 0.0f) f = 0.0f;
  const uint32_t u = __float_as_uint(f);
  return (u & 0x80000000u) ? ~u : u | 0x80000000u;
}

// The k-th largest of key(0) .. key(m - 1) (1 <= k <= m), 8 bits a pass from the top.
template <class Key>
__device__ uint32_t radix_select(Key key, int m, int k) {
  __shared__ int s_hist[256];
  __shared__ uint32_t s_prefix;
  __shared__ int s_rank;
  const int tid = threadIdx.x, lane = tid % 32;
  uint32_t prefix = 0, mask = 0;
  int rank = k;  // wanted: the rank-th largest among the keys that match prefix under mask
  for (int shift = 24; shift >= 0; shift -= 8) {
    for (int i = tid; i < 256; i += kThreads) s_hist[i] = 0;
    __syncthreads();
    for (int base = 0; base < m; base += kThreads) {
      const int i = base + tid;
      const uint32_t ki = i < m ? key(i) : 0u;
      const bool in = i < m && (ki & mask) == prefix;
      const uint32_t digit = in ? (ki >> shift) & 255u : 256u;
      // scores of a row share their top bits: one atomic per distinct digit in the warp
      const unsigned peers = __match_any_sync(0xffffffffu, digit);
      if (in && lane == __ffs(peers) - 1) atomicAdd(&s_hist[digit], __popc(peers));
    }
    __syncthreads();
    if (tid < 32) {  // lane L: digits 255 - 8L, ..., 248 - 8L (descending)
      int c[8], sum = 0;
#pragma unroll
      for (int j = 0; j < 8; ++j) sum += c[j] = s_hist[255 - 8 * lane - j];
      int incl = sum;
#pragma unroll
      for (int off = 1; off < 32; off *= 2) {
        const int o = __shfl_up_sync(0xffffffffu, incl, off);
        if (lane >= off) incl += o;
      }
      int above = incl - sum;
      if (above < rank && rank <= incl) {
        for (int j = 0; j < 8; ++j) {
          if (above + c[j] >= rank) {
            s_prefix = prefix | uint32_t(255 - 8 * lane - j) << shift;
            s_rank = rank - above;
            break;
          }
          above += c[j];
        }
      }
    }
    __syncthreads();
    prefix = s_prefix;
    rank = s_rank;
    mask |= 255u << shift;
  }
  return prefix;
}

__global__ void __launch_bounds__(kThreads) quest_select_kernel(int32_t* idx, int64_t idx_stride, const float* scores,
                                                                int64_t score_stride, int n_pages, int k, int P,
                                                                int n) {
  extern __shared__ uint32_t s_key[];  // [n_pages]
  __shared__ Scan::TempStorage storage;
  const int r = blockIdx.x;
  int32_t* out = idx + r * idx_stride;
  for (int t = threadIdx.x; t < n - n_pages * P; t += kThreads) out[k * P + t] = n_pages * P + t;
  if (k == 0) return;
#pragma unroll 4
  for (int i = threadIdx.x; i < n_pages; i += kThreads) s_key[i] = score_key(scores[r * score_stride + i]);
  __syncthreads();
  const uint32_t cut = radix_select([&](int i) { return s_key[i]; }, n_pages, k);
  auto visit = [&](Segment s, auto f) {
    for (int i = s.i0; i < s.i1; ++i) f(i, s_key[i] > cut ? kBetter : s_key[i] == cut ? kTie : kWorse);
  };
  auto emit = [&](int slot, int page) {
    for (int t = 0; t < P; ++t) out[slot * P + t] = page * P + t;
  };
  compact(segment(n_pages, 1), k, visit, emit, storage);
}

// The scores stay in global memory (a row of a long context does not fit in shared memory); the
// radix passes and the compaction read them through L2.
__global__ void __launch_bounds__(kThreads) oracle_select_kernel(int32_t* idx, int64_t idx_stride, const float* scores,
                                                                 int64_t score_stride, int n_past, int k) {
  __shared__ Scan::TempStorage storage;
  const int r = blockIdx.x;
  int32_t* out = idx + r * idx_stride;
  if (threadIdx.x == 0) out[k] = n_past;
  if (k == 0) return;
  const float* row = scores + r * score_stride;
  auto key = [&](int i) { return score_key(row[i]); };
  const uint32_t cut = radix_select(key, n_past, k);
  auto visit = [&](Segment s, auto f) {
    for (int i = s.i0; i < s.i1; ++i) {
      const uint32_t ki = key(i);
      f(i, ki > cut ? kBetter : ki == cut ? kTie : kWorse);
    }
  };
  compact(segment(n_past, 1), k, visit, [&](int slot, int i) { out[slot] = i; }, storage);
}

__global__ void streaming_kernel(int32_t* idx, int n, int budget, int sink) {
  const int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (budget >= n) {
    if (j < n) idx[j] = j;
    return;
  }
  const int s = min(sink, budget - 1);
  if (j < budget) idx[j] = j < s ? j : n - budget + j;
}

}  // namespace

cudaError_t adamas_select(int32_t* idx, int64_t idx_stride, const uint16_t* dist, int64_t dist_stride,
                          const int32_t* hist, int bins, int n_rankers, int n_past, int k, cudaStream_t stream) {
  if (k < 0 || k > n_past || dist_stride % 8 != 0) return cudaErrorInvalidValue;
  adamas_select_kernel<<<n_rankers, kThreads, 0, stream>>>(idx, idx_stride, dist, dist_stride, hist, bins, n_past, k);
  return cudaGetLastError();
}

cudaError_t quest_select(int32_t* idx, int64_t idx_stride, const float* scores, int64_t score_stride, int n_rankers,
                         int n_pages, int k, int page_size, int n, cudaStream_t stream) {
  if (k < 0 || k > n_pages || page_size < 1 || n - n_pages * page_size < 1 || n - n_pages * page_size > page_size)
    return cudaErrorInvalidValue;
  const size_t smem = sizeof(uint32_t) * size_t(n_pages);
  if (smem > 48 * 1024)
    ADAMAS_CUDA_TRY(cudaFuncSetAttribute(quest_select_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)));
  quest_select_kernel<<<n_rankers, kThreads, smem, stream>>>(idx, idx_stride, scores, score_stride, n_pages, k,
                                                             page_size, n);
  return cudaGetLastError();
}

cudaError_t oracle_select(int32_t* idx, int64_t idx_stride, const float* scores, int64_t score_stride, int n_rankers,
                          int n_past, int k, cudaStream_t stream) {
  if (k < 0 || k > n_past) return cudaErrorInvalidValue;
  oracle_select_kernel<<<n_rankers, kThreads, 0, stream>>>(idx, idx_stride, scores, score_stride, n_past, k);
  return cudaGetLastError();
}

cudaError_t streaming_select(int32_t* idx, int n, int budget, int sink, cudaStream_t stream) {
  const int len = budget < n ? budget : n;
  if (len < 1) return cudaErrorInvalidValue;
  streaming_kernel<<<ceil_div(len, 256), 256, 0, stream>>>(idx, n, budget, sink);
  return cudaGetLastError();
}

}  // namespace adamas::cuda
