#include "attention/cuda/dispatch.cuh"
#include "attention/cuda/oracle.h"

namespace adamas::cuda {

namespace {

constexpr int kThreads = 128;

template <int G>
__global__ void __launch_bounds__(kThreads)
    oracle_scores_kernel(float* scores, int64_t score_stride, const float* q, const __half* k, int64_t head_stride,
                         int D, int group, bool per_kv_head, const int* n_dev, int n_host, int64_t q_stride,
                         int64_t kv_stride, int64_t score_batch) {
  extern __shared__ __align__(16) float s_q[];  // [group][D]
  const int kvh = blockIdx.y, h0 = kvh * group;
  const int64_t b = blockIdx.z;
  const float* qb = q + b * q_stride + int64_t(h0) * D;
  for (int i = threadIdx.x; i < group * D; i += kThreads) s_q[i] = qb[i];
  __syncthreads();
  const int n_past = (n_dev ? n_dev[b] : n_host) - 1;
  const int t = blockIdx.x * kThreads + threadIdx.x;
  if (t >= n_past) return;
  const __half* key = k + b * kv_stride + kvh * head_stride + int64_t(t) * D;
  float s[G];
#pragma unroll
  for (int h = 0; h < G; ++h) s[h] = 0.0f;
  for (int d = 0; d < D; d += 8) {
    const uint4 u = __ldg(reinterpret_cast<const uint4*>(key + d));
    const __half2* p = reinterpret_cast<const __half2*>(&u);
#pragma unroll
    for (int h = 0; h < G; ++h) {
      if (h >= group) break;
      const float4 q0 = *reinterpret_cast<const float4*>(s_q + h * D + d);
      const float4 q1 = *reinterpret_cast<const float4*>(s_q + h * D + d + 4);
      const float qv[8] = {q0.x, q0.y, q0.z, q0.w, q1.x, q1.y, q1.z, q1.w};
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const float2 f = __half22float2(p[j]);
        s[h] = fmaf(qv[2 * j], f.x, s[h]);
        s[h] = fmaf(qv[2 * j + 1], f.y, s[h]);
      }
    }
  }
  float* out = scores + b * score_batch;
  if (per_kv_head) {
    float total = s[0];
#pragma unroll
    for (int h = 1; h < G; ++h)
      if (h < group) total = total + s[h];
    out[kvh * score_stride + t] = total;
  } else {
#pragma unroll
    for (int h = 0; h < G; ++h)
      if (h < group) out[(h0 + h) * score_stride + t] = s[h];
  }
}

}  // namespace

cudaError_t oracle_scores(float* scores, int64_t score_stride, const float* q, const DeviceKV& kv, int n_heads,
                          const SeqLengths& n, int max_n, bool per_kv_head, int batch, int64_t q_stride,
                          int64_t kv_stride, int64_t score_batch, cudaStream_t stream) {
  if (kv.n_kv_heads < 1 || n_heads % kv.n_kv_heads != 0 || max_n < 1 || batch < 1) return cudaErrorInvalidValue;
  const int group = n_heads / kv.n_kv_heads, D = kv.head_dim;
  if (D < 8 || D % 8 != 0) unsupported("head_dim (for the oracle, a multiple of 8)", D, "multiples of 8");
  if (max_n - 1 <= 0) return cudaSuccess;
  const dim3 grid(ceil_div(max_n - 1, kThreads), kv.n_kv_heads, batch);
  const size_t smem = sizeof(float) * size_t(group) * D;
  ADAMAS_DISPATCH_GROUP_BOUND(group, G, {
    oracle_scores_kernel<G><<<grid, kThreads, smem, stream>>>(scores, score_stride, q, kv.k, kv.head_stride, D, group,
                                                              per_kv_head, n.dev, n.n, q_stride, kv_stride,
                                                              score_batch);
  })
  return cudaGetLastError();
}

}  // namespace adamas::cuda
