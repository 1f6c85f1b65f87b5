#include <cub/block/block_scan.cuh>
#include <cuda/atomic>

#include <algorithm>

#include "attention/cuda/dependent_launch.cuh"
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

// ---- Adamas: a row over several blocks ----------------------------------------------------

constexpr int kSelThreads = 256;
constexpr int kSelMinBlocks = 4;                   // per multiprocessor: registers <= 64
constexpr int kSegVec = 4;                         // 16-byte loads of distances a thread holds
constexpr int kSegMax = kSelThreads * 8 * kSegVec; // distances a segment holds at most
constexpr unsigned long long kReady = 1ull << 63;  // a segment's counts are published
using SelScan = cub::BlockScan<unsigned long long, kSelThreads>;

struct SelectScratch {
  int* ticket;  // [rows]: segments of the row taken
  int* done;    // [rows]: blocks of the row finished
  unsigned long long* flags;  // [rows][segments]
};

// [ticket][done][flags] (2 * rows ints: the flags are 8-byte aligned)
SelectScratch select_scratch(void* p, int rows) {
  int* words = static_cast<int*>(p);
  return SelectScratch{words, words + rows, reinterpret_cast<unsigned long long*>(words + 2 * rows)};
}

struct SelectArgs {
  int32_t* idx;
  int64_t idx_stride, idx_batch;
  const uint16_t* dist;
  int64_t dist_stride, dist_batch;
  const AdamasCut* cuts;
  SelectScratch ws;
  const int* n_dev;
  int n;
  int n_rankers, segments, k;
};

// Counts of a segment packed in one word: better in bits 32..62, ties in bits 0..31.
__device__ __forceinline__ unsigned long long pack_counts(uint32_t better, uint32_t ties) {
  return (static_cast<unsigned long long>(better) << 32) | ties;
}

// Blocks (row, *) of row = b * n_rankers + r, a.segments of them, consecutive in the grid. Each
// takes the next segment of its row (a ticket: the segments it waits on belong to blocks that
// have started), counts it, publishes the counts, adds those of the segments before it and
// writes its elements at their final slots.
__global__ void __launch_bounds__(kSelThreads, kSelMinBlocks) adamas_select_kernel(const SelectArgs a) {
  __shared__ SelScan::TempStorage storage;
  __shared__ int s_seg;
  __shared__ unsigned long long s_before;
  __shared__ bool s_last;
  wait_for_prior_grids();  // the distances and cuts of the estimate
  allow_dependent_grids();
  const int tid = threadIdx.x, row = blockIdx.x / a.segments;
  if (tid == 0) s_seg = atomicAdd(a.ws.ticket + row, 1);
  // these loads do not wait for the ticket
  const int b = row / a.n_rankers, r = row % a.n_rankers;
  const int n_past = max((a.n_dev ? a.n_dev[b] : a.n) - 1, 0);
  const AdamasCut cut = a.cuts[row];
  int32_t* out = a.idx + b * a.idx_batch + r * a.idx_stride;
  const uint16_t* dist = a.dist + b * a.dist_batch + r * a.dist_stride;
  __syncthreads();
  const int seg = s_seg;
  const int seg_len = ((n_past + a.segments - 1) / a.segments + 7) / 8 * 8;  // <= kSegMax
  const int i0 = min(n_past, seg * seg_len), i1 = min(n_past, i0 + seg_len);
  if (seg == 0 && tid == 0) out[a.k] = n_past;

  // this thread's part [e0, e1) of the segment, in registers
  const int per = ((i1 - i0 + kSelThreads - 1) / kSelThreads + 7) / 8 * 8;
  const int e0 = min(i1, i0 + tid * per), e1 = min(i1, e0 + per);
  uint4 w[kSegVec];
#pragma unroll
  for (int v = 0; v < kSegVec; ++v)
    w[v] = e0 + 8 * v < e1 ? *reinterpret_cast<const uint4*>(dist + e0 + 8 * v) : make_uint4(0, 0, 0, 0);
  auto visit = [&](auto f) {
#pragma unroll
    for (int v = 0; v < kSegVec; ++v) {
      const uint16_t* d = reinterpret_cast<const uint16_t*>(&w[v]);
#pragma unroll
      for (int e = 0; e < 8; ++e) {
        const int i = e0 + 8 * v + e;
        if (i < e1) f(i, int(d[e]) < cut.cut ? kBetter : int(d[e]) == cut.cut ? kTie : kWorse);
      }
    }
  };
  uint32_t better = 0, ties = 0;
  visit([&](int, int c) {
    better += c == kBetter;
    ties += c == kTie;
  });
  unsigned long long mine, total;
  SelScan(storage).ExclusiveSum(pack_counts(better, ties), mine, total);

  // publish this segment's counts; the first warp adds up those of the segments before it
  unsigned long long* flags = a.ws.flags + int64_t(row) * a.segments;
  if (tid < 32) {
    if (tid == 0)
      ::cuda::atomic_ref<unsigned long long, ::cuda::thread_scope_device>(flags[seg]).store(
          kReady | total, ::cuda::memory_order_release);
    unsigned long long prev = 0;
    for (int p = tid; p < seg; p += 32) {
      ::cuda::atomic_ref<unsigned long long, ::cuda::thread_scope_device> f(flags[p]);
      unsigned long long x;
      while (!((x = f.load(::cuda::memory_order_acquire)) & kReady)) {
      }
      prev += x & ~kReady;
    }
#pragma unroll
    for (int off = 16; off > 0; off /= 2) prev += __shfl_xor_sync(0xffffffffu, prev, off);
    if (tid == 0) s_before = prev;
  }
  __syncthreads();
  mine += s_before;

  // every element better than the cut, and the ties after the first cut.skip of the row
  int bb = int(mine >> 32), tt = int(mine & 0xffffffffu);
  const int skip = cut.skip;
  visit([&](int i, int c) {
    if (c == kBetter) {
      out[bb++ + max(0, tt - skip)] = i;
    } else if (c == kTie) {
      if (tt >= skip) out[bb + tt - skip] = i;
      ++tt;
    }
  });

  // the row's last block to finish leaves its scratch zeroed for the next launch
  __syncthreads();
  if (tid == 0) {
    __threadfence();
    s_last = atomicAdd(a.ws.done + row, 1) == a.segments - 1;
  }
  __syncthreads();
  if (!s_last) return;
  for (int i = tid; i < a.segments; i += kSelThreads) flags[i] = 0;
  if (tid == 0) {
    a.ws.ticket[row] = 0;
    a.ws.done[row] = 0;
  }
}

// Segments a row is cut into: the fewest that each fit a block (shorter ones, to fill a wave of
// the grid, were slower on the H200: 16 segments of a 32K row against 4 took 11.65 against 11.30
// us, the look-back waiting on more of them). Non-decreasing in max_n, so scratch sized for a
// capacity serves every shorter launch.
int adamas_segments(int max_n) { return std::max(1, ceil_div(std::max(max_n - 1, 1), kSegMax)); }

// ---- Quest and the oracle: one block per ranker -------------------------------------------

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

__global__ void __launch_bounds__(kThreads) quest_select_kernel(int32_t* idx, int64_t idx_stride, int64_t idx_batch,
                                                                const float* scores, int64_t score_stride,
                                                                int64_t score_batch, const int* n_dev, int n_host,
                                                                int k, int P, int* list_len) {
  extern __shared__ uint32_t s_key[];  // [n_pages]
  __shared__ Scan::TempStorage storage;
  wait_for_prior_grids();  // the page scores of the estimate
  allow_dependent_grids();
  const int r = blockIdx.x, b = blockIdx.y;
  const int n = n_dev ? n_dev[b] : n_host, n_pages = (n - 1) / P;
  int32_t* out = idx + b * idx_batch + r * idx_stride;
  const float* row = scores + b * score_batch + r * score_stride;
  if (list_len && r == 0 && threadIdx.x == 0) list_len[b] = k * P + n - n_pages * P;
  for (int t = threadIdx.x; t < n - n_pages * P; t += kThreads) out[k * P + t] = n_pages * P + t;
  if (k == 0) return;
#pragma unroll 4
  for (int i = threadIdx.x; i < n_pages; i += kThreads) s_key[i] = score_key(row[i]);
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
__global__ void __launch_bounds__(kThreads) oracle_select_kernel(int32_t* idx, int64_t idx_stride, int64_t idx_batch,
                                                                 const float* scores, int64_t score_stride,
                                                                 int64_t score_batch, const int* n_dev, int n_host,
                                                                 int k) {
  __shared__ Scan::TempStorage storage;
  const int r = blockIdx.x, b = blockIdx.y;
  const int n_past = max((n_dev ? n_dev[b] : n_host) - 1, 0);
  int32_t* out = idx + b * idx_batch + r * idx_stride;
  if (threadIdx.x == 0) out[k] = n_past;
  if (k == 0) return;
  const float* row = scores + b * score_batch + r * score_stride;
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

}  // namespace

size_t adamas_select_scratch_bytes(int n_rankers, int max_n, int batch) {
  const size_t rows = size_t(batch) * n_rankers;
  return sizeof(int) * 2 * rows + sizeof(unsigned long long) * rows * adamas_segments(max_n);
}

cudaError_t adamas_select(int32_t* idx, int64_t idx_stride, int64_t idx_batch, const uint16_t* dist,
                          int64_t dist_stride, int64_t dist_batch, const AdamasCut* cuts, void* scratch,
                          int n_rankers, const SeqLengths& n, int max_n, int batch, int k, cudaStream_t stream) {
  if (k < 0 || n_rankers < 1 || batch < 1 || max_n < 1 || dist_stride % 8 != 0 || dist_batch % 8 != 0)
    return cudaErrorInvalidValue;
  const int rows = n_rankers * batch, segments = adamas_segments(max_n);
  const SelectArgs a{idx, idx_stride, idx_batch, dist, dist_stride, dist_batch, cuts, select_scratch(scratch, rows),
                     n.dev, n.n, n_rankers, segments, k};
  return launch_dependent(adamas_select_kernel, dim3(rows * segments), dim3(kSelThreads), 0, stream, a);
}

cudaError_t quest_select(int32_t* idx, int64_t idx_stride, int64_t idx_batch, const float* scores,
                         int64_t score_stride, int64_t score_batch, int n_rankers, const SeqLengths& n, int max_n,
                         int k, int page_size, int* list_len, int batch, cudaStream_t stream) {
  if (k < 0 || page_size < 1 || max_n < 1 || batch < 1 || n_rankers < 1) return cudaErrorInvalidValue;
  const size_t smem = sizeof(uint32_t) * size_t((max_n - 1) / page_size);
  if (smem > 48 * 1024)
    ADAMAS_CUDA_TRY(cudaFuncSetAttribute(quest_select_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)));
  return launch_dependent(quest_select_kernel, dim3(n_rankers, batch), dim3(kThreads), smem, stream, idx, idx_stride,
                          idx_batch, scores, score_stride, score_batch, n.dev, n.n, k, page_size, list_len);
}

cudaError_t oracle_select(int32_t* idx, int64_t idx_stride, int64_t idx_batch, const float* scores,
                          int64_t score_stride, int64_t score_batch, int n_rankers, const SeqLengths& n, int k,
                          int batch, cudaStream_t stream) {
  if (k < 0 || n_rankers < 1 || batch < 1) return cudaErrorInvalidValue;
  oracle_select_kernel<<<dim3(n_rankers, batch), kThreads, 0, stream>>>(idx, idx_stride, idx_batch, scores,
                                                                        score_stride, score_batch, n.dev, n.n, k);
  return cudaGetLastError();
}

}  // namespace adamas::cuda
