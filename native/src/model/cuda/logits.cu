#include <climits>

#include "model/cuda/device_math.cuh"
#include "model/cuda/logits.h"

namespace adamas::cuda {

namespace {

constexpr int kThreads = 1024;

// (v, i) beats (best_v, best_i) when larger, or equal at a smaller index.
__device__ __forceinline__ bool better(float v, int i, float best_v, int best_i) {
  return v > best_v || (v == best_v && i < best_i);
}

// The warp's best (v, i) into every lane's pair.
__device__ __forceinline__ void warp_best(float& best_v, int& best_i) {
#pragma unroll
  for (int off = 16; off > 0; off /= 2) {
    const float v = __shfl_xor_sync(0xffffffffu, best_v, off);
    const int i = __shfl_xor_sync(0xffffffffu, best_i, off);
    if (better(v, i, best_v, best_i)) {
      best_v = v;
      best_i = i;
    }
  }
}

__global__ void __launch_bounds__(kThreads) argmax_kernel(int32_t* token, const float* x, int n) {
  __shared__ float s_v[32];
  __shared__ int s_i[32];
  float best_v = -INFINITY;
  int best_i = INT_MAX;
  for (int i = threadIdx.x; i < n; i += blockDim.x)
    if (better(x[i], i, best_v, best_i)) {
      best_v = x[i];
      best_i = i;
    }
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  warp_best(best_v, best_i);
  if (lane == 0) {
    s_v[warp] = best_v;
    s_i[warp] = best_i;
  }
  __syncthreads();
  if (warp != 0) return;
  best_v = lane < int(blockDim.x / 32) ? s_v[lane] : -INFINITY;
  best_i = lane < int(blockDim.x / 32) ? s_i[lane] : INT_MAX;
  warp_best(best_v, best_i);
  if (lane == 0) *token = best_i < n ? best_i : 0;  // all NaN: 0, as the CPU's loop leaves it
}

__global__ void nll_kernel(float* nll, const float* logits, const int32_t* targets, int V) {
  const float* x = logits + int64_t(blockIdx.x) * V;
  float m = -INFINITY;
  for (int i = threadIdx.x; i < V; i += blockDim.x) m = fmaxf(m, x[i]);
  m = block_reduce<true>(m);
  float s = 0.0f;
  for (int i = threadIdx.x; i < V; i += blockDim.x) s += expf(x[i] - m);
  s = block_reduce<false>(s);
  if (threadIdx.x == 0) nll[blockIdx.x] = (m + logf(s)) - x[targets[blockIdx.x]];
}

}  // namespace

cudaError_t argmax(int32_t* token, const float* logits, int V, cudaStream_t stream) {
  if (V < 1) return cudaErrorInvalidValue;
  argmax_kernel<<<1, kThreads, 0, stream>>>(token, logits, V);
  return cudaGetLastError();
}

cudaError_t nll_rows(float* nll, const float* logits, const int32_t* targets, int rows, int V, cudaStream_t stream) {
  if (rows < 1 || V < 1) return cudaErrorInvalidValue;
  nll_kernel<<<rows, 256, 0, stream>>>(nll, logits, targets, V);
  return cudaGetLastError();
}

}  // namespace adamas::cuda
