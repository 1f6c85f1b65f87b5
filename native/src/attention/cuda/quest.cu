#include <cstdint>

#include "attention/cuda/dependent_launch.cuh"
#include "attention/cuda/dispatch.cuh"
#include "attention/cuda/quest.h"

namespace adamas::cuda {

namespace {

constexpr int kScorePages = 64;   // pages of a block, one a thread (page capacities are multiples)
constexpr int kScoreChunk = 16;   // channels of a pipeline stage
constexpr int kScoreStages = 4;   // stages in shared memory: 3 chunks in flight while one is summed

// Block (page, kvh, b), one thread per channel; walks the page's new tokens in order with the
// CPU's comparisons (std::max / std::min).
__global__ void bounds_kernel(__half* page_max, __half* page_min, int page_cap, const __half* k, int64_t head_stride,
                              int D, int P, int pos_host, const int* pos_dev, int n, int64_t kv_stride,
                              int64_t bounds_stride) {
  const int64_t b = blockIdx.z;
  const int pos = pos_host + (pos_dev ? pos_dev[b] : 0);
  const int p = pos / P + blockIdx.x, kvh = blockIdx.y, d = threadIdx.x;
  if (int64_t(p) * P >= pos + n) return;  // a page past the appended positions (grid sized for any pos)
  int t = max(pos, p * P);
  const int end = min(pos + n, (p + 1) * P);
  const __half* key = k + b * kv_stride + kvh * head_stride + d;
  const int64_t at = b * bounds_stride + (int64_t(kvh) * D + d) * page_cap + p;
  float mx, mn;
  if (t == p * P) {
    mx = mn = __half2float(key[int64_t(t++) * D]);
  } else {
    mx = __half2float(page_max[at]);
    mn = __half2float(page_min[at]);
  }
  for (; t < end; ++t) {
    const float x = __half2float(key[int64_t(t) * D]);
    mx = mx < x ? x : mx;
    mn = x < mn ? x : mn;
  }
  page_max[at] = __float2half(mx);  // exact: both are fp16 values
  page_min[at] = __float2half(mn);
}

__device__ __forceinline__ float bound_term(float q, float mx, float mn) {
  const float a = __fmul_rn(q, mx), b = __fmul_rn(q, mn);
  return a > b ? a : b;
}

// Asynchronous 16-byte copies global -> shared (sm_80 and later), in commit groups.
__device__ __forceinline__ void cp_async16(void* smem, const void* gmem) {
  const unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(dst), "l"(gmem) : "memory");
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

// Block (tile, kvh, b): pages tile * kScorePages + threadIdx.x, each summing for the group's
// query heads over d in order. The bounds of the tile's pages stream through shared memory
// kScoreChunk channels at a time (max and min: 4 KB a stage), kScoreStages - 1 chunks in flight.
template <int D, int G>
__global__ void __launch_bounds__(kScorePages) score_kernel(float* scores, int64_t score_stride, const float* q,
                                                            const __half* page_max, const __half* page_min,
                                                            int page_cap, int group, const int* n_dev, int n_host,
                                                            int P, bool per_kv_head, QuestBatch batch) {
  constexpr int kChunks = D / kScoreChunk;
  constexpr int kPieces = kScorePages / 8;                    // 16-byte pieces of a channel's pages
  constexpr int kCopies = 2 * kScoreChunk * kPieces / kScorePages;  // a thread's copies a stage
  __shared__ __align__(128) __half s_b[kScoreStages][2][kScoreChunk][kScorePages];  // [stage][max, min][d][page]
  __shared__ float s_q[G][D];
  wait_for_prior_grids();  // the page bounds and the query are the stream's before this
  allow_dependent_grids();
  const int kvh = blockIdx.y, h0 = kvh * group, tid = threadIdx.x;
  const int64_t b = blockIdx.z;
  const int n = n_dev ? n_dev[b] : n_host, n_pages = (n - 1) / P;
  const int p0 = blockIdx.x * kScorePages;
  if (p0 >= n_pages) return;  // the whole block
  const int64_t base = b * batch.bounds_stride + int64_t(kvh) * D * page_cap + p0;
  auto issue = [&](int chunk) {  // channels chunk * kScoreChunk .. of every page of the tile
    const int slot = chunk % kScoreStages;
#pragma unroll
    for (int u = 0; u < kCopies; ++u) {
      const int c = u * kScorePages + tid, which = c / (kScoreChunk * kPieces);
      const int d = (c / kPieces) % kScoreChunk, piece = c % kPieces;
      const __half* src = (which ? page_min : page_max) + base + int64_t(chunk * kScoreChunk + d) * page_cap + piece * 8;
      cp_async16(&s_b[slot][which][d][piece * 8], src);
    }
  };
#pragma unroll
  for (int c = 0; c < kScoreStages - 1; ++c) {
    if (c < kChunks) issue(c);
    cp_async_commit();  // empty groups too: the count of groups in flight stays uniform
  }
  const float* qb = q + b * batch.q_stride + int64_t(h0) * D;
  for (int i = tid; i < group * D; i += kScorePages) s_q[i / D][i % D] = qb[i];

  float u[G];
#pragma unroll
  for (int h = 0; h < G; ++h) u[h] = 0.0f;
#pragma unroll 1
  for (int c = 0; c < kChunks; ++c) {
    cp_async_wait<kScoreStages - 2>();  // this thread's copies of chunk c have landed
    __syncthreads();                     // everyone's; and chunk c - 1's stage is free again
    if (c + kScoreStages - 1 < kChunks) issue(c + kScoreStages - 1);
    cp_async_commit();
    const int slot = c % kScoreStages;
#pragma unroll
    for (int i = 0; i < kScoreChunk; ++i) {
      const float fmx = __half2float(s_b[slot][0][i][tid]), fmn = __half2float(s_b[slot][1][i][tid]);
#pragma unroll
      for (int h = 0; h < G; ++h)
        if (h < group) u[h] = __fadd_rn(u[h], bound_term(s_q[h][c * kScoreChunk + i], fmx, fmn));
    }
  }
  const int p = p0 + tid;
  if (p >= n_pages) return;
  float* out = scores + b * batch.score_batch;
  if (per_kv_head) {
    float sum = 0.0f;  // the CPU's order: 0 + U(h0) + U(h0 + 1) + ...
#pragma unroll
    for (int h = 0; h < G; ++h)
      if (h < group) sum = __fadd_rn(sum, u[h]);
    out[kvh * score_stride + p] = sum;
  } else {
#pragma unroll
    for (int h = 0; h < G; ++h)
      if (h < group) out[(h0 + h) * score_stride + p] = __fadd_rn(0.0f, u[h]);
  }
}

}  // namespace

cudaError_t quest_update_bounds(__half* page_max, __half* page_min, int page_cap, const DeviceKV& kv, int page_size,
                                int pos, int n, cudaStream_t stream, const int* pos_dev, int batch, int64_t kv_stride,
                                int64_t bounds_stride) {
  if (n <= 0) return cudaSuccess;
  if (kv.head_dim > 1024 || page_size < 1 || batch < 1) return cudaErrorInvalidValue;
  // pages the positions touch: known from pos on the host, at most this many for any start
  const int pages = pos_dev ? (n + page_size - 1) / page_size + 1 : (pos + n - 1) / page_size - pos / page_size + 1;
  bounds_kernel<<<dim3(pages, kv.n_kv_heads, batch), kv.head_dim, 0, stream>>>(
      page_max, page_min, page_cap, kv.k, kv.head_stride, kv.head_dim, page_size, pos, pos_dev, n, kv_stride,
      bounds_stride);
  return cudaGetLastError();
}

cudaError_t quest_page_scores(float* scores, int64_t score_stride, const float* q, const __half* page_max,
                              const __half* page_min, int page_cap, int n_heads, int n_kv_heads, int head_dim,
                              const SeqLengths& n, int max_n, int page_size, bool per_kv_head, const QuestBatch& batch,
                              cudaStream_t stream) {
  if (n_kv_heads < 1 || n_heads % n_kv_heads != 0 || page_size < 1 || batch.size < 1) return cudaErrorInvalidValue;
  // the kernel copies whole tiles of kScorePages pages in 16-byte pieces
  if (page_cap % kScorePages != 0 || batch.bounds_stride % 8 != 0 || reinterpret_cast<uintptr_t>(page_max) % 16 != 0 ||
      reinterpret_cast<uintptr_t>(page_min) % 16 != 0)
    return cudaErrorInvalidValue;
  const int max_pages = (max_n - 1) / page_size;
  if (max_pages <= 0) return cudaSuccess;
  const int group = n_heads / n_kv_heads;
  const dim3 grid(ceil_div(max_pages, kScorePages), n_kv_heads, batch.size);
  ADAMAS_DISPATCH_HEAD_DIM(head_dim, D, ADAMAS_DISPATCH_GROUP_BOUND(group, G, {
    ADAMAS_CUDA_TRY(launch_dependent(score_kernel<D, G>, grid, dim3(kScorePages), 0, stream, scores, score_stride, q,
                                     page_max, page_min, page_cap, group, n.dev, n.n, page_size, per_kv_head, batch));
  }))
  return cudaSuccess;
}

}  // namespace adamas::cuda
