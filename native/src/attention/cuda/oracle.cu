#include "attention/cuda/dispatch.cuh"
#include "attention/cuda/oracle.h"

namespace adamas::cuda {

namespace {

constexpr int kThreads = 128;
constexpr int kMaxGroup = 8;

__global__ void __launch_bounds__(kThreads)
    oracle_scores_kernel(float* scores, int64_t score_stride, const float* q, const __half* k, int64_t head_stride,
                         int D, int group, int heads_per_ranker, int n_past) {
  extern __shared__ float s_q[];  // [heads_per_ranker][D]
  const int r = blockIdx.y, h0 = r * heads_per_ranker, kvh = h0 / group;
  for (int i = threadIdx.x; i < heads_per_ranker * D; i += kThreads) s_q[i] = q[int64_t(h0) * D + i];
  __syncthreads();
  const int t = blockIdx.x * kThreads + threadIdx.x;
  if (t >= n_past) return;
  const __half* key = k + kvh * head_stride + int64_t(t) * D;
  float total = 0.0f;
  for (int h = 0; h < heads_per_ranker; ++h) {
    const float* qh = s_q + h * D;
    float s = 0.0f;
    for (int d = 0; d < D; d += 8) {
      const uint4 u = __ldg(reinterpret_cast<const uint4*>(key + d));
      const __half2* p = reinterpret_cast<const __half2*>(&u);
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const float2 f = __half22float2(p[j]);
        s = fmaf(qh[d + 2 * j], f.x, s);
        s = fmaf(qh[d + 2 * j + 1], f.y, s);
      }
    }
    total = h == 0 ? s : total + s;
  }
  scores[r * score_stride + t] = total;
}

}  // namespace

cudaError_t oracle_scores(float* scores, int64_t score_stride, const float* q, const DeviceKV& kv, int n_heads,
                          int n_past, bool per_kv_head, cudaStream_t stream) {
  if (kv.n_kv_heads < 1 || n_heads % kv.n_kv_heads != 0 || n_past < 0) return cudaErrorInvalidValue;
  const int group = n_heads / kv.n_kv_heads, D = kv.head_dim;
  if (D < 8 || D % 8 != 0) unsupported("head_dim (for the oracle, a multiple of 8)", D, "multiples of 8");
  if (per_kv_head && group > kMaxGroup) unsupported("GQA group size (query heads per KV head)", group, "1 to 8");
  if (n_past == 0) return cudaSuccess;
  const int per_ranker = per_kv_head ? group : 1, rankers = n_heads / per_ranker;
  const dim3 grid(ceil_div(n_past, kThreads), rankers);
  oracle_scores_kernel<<<grid, kThreads, sizeof(float) * size_t(per_ranker) * D, stream>>>(
      scores, score_stride, q, kv.k, kv.head_stride, D, group, per_ranker, n_past);
  return cudaGetLastError();
}

}  // namespace adamas::cuda
