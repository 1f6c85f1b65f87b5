#include <cfloat>

#include "attention/cuda/dispatch.cuh"
#include "attention/cuda/recall.h"

namespace adamas::cuda {

namespace {

constexpr int kThreads = 256;

// The block's reduction of v (op: max or sum); every thread gets the result.
template <bool kMax>
__device__ float block_reduce(float v, float* shared) {
  for (int off = 16; off > 0; off /= 2) {
    const float o = __shfl_xor_sync(0xffffffffu, v, off);
    v = kMax ? fmaxf(v, o) : v + o;
  }
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  __syncthreads();  // shared may still be read by a previous reduction
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  v = kMax ? -FLT_MAX : 0.0f;
  for (int w = 0; w < kThreads / 32; ++w) v = kMax ? fmaxf(v, shared[w]) : v + shared[w];
  return v;
}

__global__ void __launch_bounds__(kThreads)
    selected_mass_kernel(float* mass, const float* q, const __half* k, int64_t head_stride, int D, int group, int n,
                         const int32_t* idx, int64_t idx_stride, int n_idx, int heads_per_list, float scale) {
  extern __shared__ float s_q[];  // [D]
  __shared__ float s_red[kThreads / 32];
  const int h = blockIdx.x;
  const __half* K = k + int64_t(h / group) * head_stride;
  for (int d = threadIdx.x; d < D; d += kThreads) s_q[d] = q[int64_t(h) * D + d];
  __syncthreads();
  auto logit = [&](int64_t pos) {
    const __half* kr = K + pos * D;
    float dot = 0.0f;
    for (int d = 0; d < D; ++d) dot = fmaf(s_q[d], __half2float(kr[d]), dot);
    return scale * dot;
  };

  float mx = -FLT_MAX;
  for (int j = threadIdx.x; j < n; j += kThreads) mx = fmaxf(mx, logit(j));
  mx = block_reduce<true>(mx, s_red);
  float sum = 0.0f;
  for (int j = threadIdx.x; j < n; j += kThreads) sum += expf(logit(j) - mx);
  sum = block_reduce<false>(sum, s_red);
  float on = 0.0f;
  if (idx) {
    const int32_t* list = idx + int64_t(h / heads_per_list) * idx_stride;
    for (int i = threadIdx.x; i < n_idx; i += kThreads) on += expf(logit(list[i]) - mx);
    on = block_reduce<false>(on, s_red);
  } else {
    on = sum;
  }
  if (threadIdx.x == 0) mass[h] = on / sum;
}

}  // namespace

cudaError_t selected_mass(float* mass, const float* q, const DeviceKV& kv, int n_heads, int n, const int32_t* idx,
                          int64_t idx_stride, int n_idx, int heads_per_list, float scale, cudaStream_t stream) {
  if (n < 1 || kv.n_kv_heads < 1 || n_heads % kv.n_kv_heads != 0 || kv.head_dim < 1) return cudaErrorInvalidValue;
  if (idx && (heads_per_list < 1 || n_heads % heads_per_list != 0 || n_idx < 0)) return cudaErrorInvalidValue;
  const int group = n_heads / kv.n_kv_heads;
  selected_mass_kernel<<<n_heads, kThreads, sizeof(float) * size_t(kv.head_dim), stream>>>(
      mass, q, kv.k, kv.head_stride, kv.head_dim, group, n, idx, idx_stride, n_idx, heads_per_list, scale);
  return cudaGetLastError();
}

}  // namespace adamas::cuda
