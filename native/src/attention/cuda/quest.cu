#include "attention/cuda/dispatch.cuh"
#include "attention/cuda/quest.h"

namespace adamas::cuda {

namespace {

constexpr int kScoreThreads = 128;

constexpr int kChannelsInFlight = 16;

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

// Thread (page, kvh, b) for the group's query heads: each head's sum over d in order.
template <int D, int G>
__global__ void __launch_bounds__(kScoreThreads) score_kernel(float* scores, int64_t score_stride, const float* q,
                                                              const __half* page_max, const __half* page_min,
                                                              int page_cap, int group, const int* n_dev, int n_host,
                                                              int P, bool per_kv_head, QuestBatch batch) {
  __shared__ __align__(16) float s_q[G][D];
  const int kvh = blockIdx.y, h0 = kvh * group, tid = threadIdx.x;
  const int64_t b = blockIdx.z;
  const float* qb = q + b * batch.q_stride + int64_t(h0) * D;
  for (int i = tid; i < group * D; i += kScoreThreads) s_q[i / D][i % D] = qb[i];
  __syncthreads();
  const int n = n_dev ? n_dev[b] : n_host, n_pages = (n - 1) / P;
  const int p = blockIdx.x * kScoreThreads + tid;
  if (p >= n_pages) return;
  const int64_t base = b * batch.bounds_stride + int64_t(kvh) * D * page_cap + p;
  const __half* gmax = page_max + base;
  const __half* gmin = page_min + base;
  float u[G];
#pragma unroll
  for (int h = 0; h < G; ++h) u[h] = 0.0f;
  for (int d0 = 0; d0 < D; d0 += kChannelsInFlight) {
    __half mx[kChannelsInFlight], mn[kChannelsInFlight];
#pragma unroll
    for (int i = 0; i < kChannelsInFlight; ++i) {
      mx[i] = gmax[int64_t(d0 + i) * page_cap];
      mn[i] = gmin[int64_t(d0 + i) * page_cap];
    }
#pragma unroll
    for (int i = 0; i < kChannelsInFlight; ++i) {
      const float fmx = __half2float(mx[i]), fmn = __half2float(mn[i]);
#pragma unroll
      for (int h = 0; h < G; ++h)
        if (h < group) u[h] = __fadd_rn(u[h], bound_term(s_q[h][d0 + i], fmx, fmn));
    }
  }
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
  const int max_pages = (max_n - 1) / page_size;
  if (max_pages <= 0) return cudaSuccess;
  const int group = n_heads / n_kv_heads;
  const dim3 grid(ceil_div(max_pages, kScoreThreads), n_kv_heads, batch.size);
  ADAMAS_DISPATCH_HEAD_DIM(head_dim, D, ADAMAS_DISPATCH_GROUP_BOUND(group, G, {
    score_kernel<D, G><<<grid, kScoreThreads, 0, stream>>>(scores, score_stride, q, page_max, page_min, page_cap,
                                                           group, n.dev, n.n, page_size, per_kv_head, batch);
  }))
  return cudaGetLastError();
}

}  // namespace adamas::cuda
