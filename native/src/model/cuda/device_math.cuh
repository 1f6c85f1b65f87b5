// Device functions shared by the engine's kernels: conversions between fp32 and the 16-bit types, block
// reductions, and the dispatch of a DType onto a C++ type.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "model/cuda/memory.h"

namespace adamas::cuda {

template <class T>
__device__ __forceinline__ T from_float(float x);
template <>
__device__ __forceinline__ float from_float<float>(float x) {
  return x;
}
template <>
__device__ __forceinline__ __half from_float<__half>(float x) {
  return __float2half_rn(x);
}
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float x) {
  return __float2bfloat16_rn(x);
}

__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(__half x) { return __half2float(x); }
__device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }

// The sum (or max) over the block, returned to every thread; blockDim.x a multiple of 32, <= 1024.
// Uses 33 floats of shared memory; safe to call repeatedly.
template <bool kMax>
__device__ __forceinline__ float block_reduce(float v) {
  __shared__ float part[32];
  __shared__ float result;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
#pragma unroll
  for (int off = 16; off > 0; off /= 2) {
    const float o = __shfl_xor_sync(0xffffffffu, v, off);
    v = kMax ? fmaxf(v, o) : v + o;
  }
  __syncthreads();  // a previous call's readers of `result` are done
  if (lane == 0) part[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < warps ? part[lane] : (kMax ? -INFINITY : 0.0f);
#pragma unroll
    for (int off = 16; off > 0; off /= 2) {
      const float o = __shfl_xor_sync(0xffffffffu, v, off);
      v = kMax ? fmaxf(v, o) : v + o;
    }
    if (lane == 0) result = v;
  }
  __syncthreads();
  return result;
}

}  // namespace adamas::cuda

// T becomes float, __half or __nv_bfloat16 inside the body.
#define ADAMAS_DISPATCH_DTYPE(type, T, ...)  \
  switch (type) {                            \
    case ::adamas::cuda::DType::F32: {       \
      using T = float;                       \
      __VA_ARGS__                            \
      break;                                 \
    }                                        \
    case ::adamas::cuda::DType::F16: {       \
      using T = __half;                      \
      __VA_ARGS__                            \
      break;                                 \
    }                                        \
    case ::adamas::cuda::DType::BF16: {      \
      using T = __nv_bfloat16;               \
      __VA_ARGS__                            \
      break;                                 \
    }                                        \
  }
