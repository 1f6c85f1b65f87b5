#include <cstdint>

#include "model/cuda/device_math.cuh"
#include "model/cuda/gemv.h"

namespace adamas::cuda {

namespace {

constexpr int kWarps = 8;
constexpr int kThreads = 32 * kWarps;
constexpr int kRows = 2;    // rows a warp computes together (a gate row and its up row with swiglu)
constexpr int kUnroll = 4;  // 16-byte loads of each row a lane has in flight
constexpr int kSpan = 32 * 8 * kUnroll;  // elements of a row the warp covers per iteration

__device__ __forceinline__ void to_floats(const uint4& u, __half, float (&f)[8]) {
  const __half2* h = reinterpret_cast<const __half2*>(&u);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float2 v = __half22float2(h[i]);
    f[2 * i] = v.x, f[2 * i + 1] = v.y;
  }
}

__device__ __forceinline__ void to_floats(const uint4& u, __nv_bfloat16, float (&f)[8]) {
  const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&u);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float2 v = __bfloat1622float2(h[i]);
    f[2 * i] = v.x, f[2 * i + 1] = v.y;
  }
}

// Programmatic dependent launch (sm_90): a product launched right after another starts while that
// one drains, fetches its first weights (which nothing before it writes) into L2, and waits for
// the earlier kernel's results only before it reads x or out.
__device__ __forceinline__ void allow_next_kernel() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}
__device__ __forceinline__ void wait_for_earlier_kernels() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}
__device__ __forceinline__ void prefetch_l2(const void* p) { asm volatile("prefetch.global.L2 [%0];" ::"l"(p)); }

// Warp p of the grid computes rows {2p, 2p + 1} (swiglu: {p, N/2 + p}); lane l takes elements
// 8l .. 8l + 7 of every 256 of a row. Many warps per multiprocessor, each with kRows x kUnroll
// 16-byte loads in flight, keep the weights streaming at the memory's rate.
template <class T, bool kNorm, bool kSwiglu>
__global__ void __launch_bounds__(kThreads) gemv_kernel(const GemvArgs a) {
  const int lane = threadIdx.x % 32, K = a.K;
  const int rows_out = kSwiglu ? a.N / 2 : a.N;
  const int warps = kSwiglu ? rows_out : (a.N + kRows - 1) / kRows;
  const int p = blockIdx.x * kWarps + threadIdx.x / 32;
  int row[kRows];
  bool ok[kRows];
#pragma unroll
  for (int i = 0; i < kRows; ++i) {
    row[i] = kSwiglu ? p + i * rows_out : kRows * p + i;
    ok[i] = p < warps && row[i] < a.N;
  }
  const T* W = static_cast<const T*>(a.w);
#pragma unroll
  for (int u = 0; u < kUnroll; ++u)
#pragma unroll
    for (int i = 0; i < kRows; ++i)
      if (ok[i] && 8 * lane + 256 * u < K) prefetch_l2(W + int64_t(row[i]) * K + 8 * lane + 256 * u);
  allow_next_kernel();
  wait_for_earlier_kernels();
  float r = 1.0f;
  if constexpr (kNorm) {  // every block finds the norm of x (K floats, from L2) itself
    float ss = 0.0f;
    for (int k = threadIdx.x * 4; k < K; k += kThreads * 4) {
      const float4 v = *reinterpret_cast<const float4*>(a.x + k);
      ss += v.x * v.x + v.y * v.y + v.z * v.z + v.w * v.w;
    }
    ss = block_reduce<false>(ss);
    r = 1.0f / sqrtf(ss / float(K) + a.eps);
  }
  if (p >= warps) return;
  float acc[kRows] = {};
  for (int k0 = 8 * lane; k0 < K; k0 += kSpan) {
    uint4 w[kRows][kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u)
#pragma unroll
      for (int i = 0; i < kRows; ++i) {
        const int k = k0 + 256 * u;
        w[i][u] = ok[i] && k < K ? __ldcs(reinterpret_cast<const uint4*>(W + int64_t(row[i]) * K + k))
                                 : make_uint4(0, 0, 0, 0);
      }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int k = k0 + 256 * u;
      if (k >= K) break;
      const float4 x0 = __ldg(reinterpret_cast<const float4*>(a.x + k));
      const float4 x1 = __ldg(reinterpret_cast<const float4*>(a.x + k + 4));
      float x[8] = {x0.x, x0.y, x0.z, x0.w, x1.x, x1.y, x1.z, x1.w};
      if constexpr (kNorm) {
        const float4 n0 = __ldg(reinterpret_cast<const float4*>(a.norm + k));
        const float4 n1 = __ldg(reinterpret_cast<const float4*>(a.norm + k + 4));
        const float n[8] = {n0.x, n0.y, n0.z, n0.w, n1.x, n1.y, n1.z, n1.w};
#pragma unroll
        for (int j = 0; j < 8; ++j) x[j] = n[j] * (x[j] * r);
      }
#pragma unroll
      for (int i = 0; i < kRows; ++i) {
        float f[8];
        to_floats(w[i][u], T(), f);
#pragma unroll
        for (int j = 0; j < 8; ++j) acc[i] = fmaf(f[j], x[j], acc[i]);
      }
    }
  }
#pragma unroll
  for (int i = 0; i < kRows; ++i)
#pragma unroll
    for (int off = 16; off > 0; off /= 2) acc[i] += __shfl_xor_sync(0xffffffffu, acc[i], off);
  if (lane != 0) return;
  if constexpr (kSwiglu) {
    const float g = acc[0];
    a.out[p] = g / (1.0f + expf(-g)) * acc[1];
  } else {
#pragma unroll
    for (int i = 0; i < kRows; ++i)
      if (ok[i]) a.out[row[i]] = a.accumulate ? a.out[row[i]] + acc[i] : acc[i];
  }
}

bool dependent_launch_supported() {
  static const bool yes = [] {
    int dev = 0, major = 0;
    return cudaGetDevice(&dev) == cudaSuccess &&
           cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) == cudaSuccess && major >= 9;
  }();
  return yes;
}

template <class T, bool kNorm>
cudaError_t launch(const GemvArgs& a, cudaStream_t stream) {
  const int warps = a.swiglu ? a.N / 2 : (a.N + kRows - 1) / kRows;
  cudaLaunchConfig_t config{};
  config.gridDim = dim3(unsigned((warps + kWarps - 1) / kWarps));
  config.blockDim = dim3(kThreads);
  config.stream = stream;
  cudaLaunchAttribute attr{};
  attr.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr.val.programmaticStreamSerializationAllowed = 1;
  config.attrs = &attr;
  config.numAttrs = dependent_launch_supported() ? 1 : 0;
  return a.swiglu ? cudaLaunchKernelEx(&config, gemv_kernel<T, kNorm, true>, a)
                  : cudaLaunchKernelEx(&config, gemv_kernel<T, kNorm, false>, a);
}

template <class T>
cudaError_t launch(const GemvArgs& a, cudaStream_t stream) {
  return a.norm ? launch<T, true>(a, stream) : launch<T, false>(a, stream);
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

}  // namespace

bool gemv_supports(const void* w, const float* x, int K) { return K > 0 && K % 8 == 0 && aligned16(w) && aligned16(x); }

cudaError_t gemv(const GemvArgs& a, cudaStream_t stream) {
  if (!a.out || !a.w || !a.x || a.N < 1 || !gemv_supports(a.w, a.x, a.K) || (a.norm && !aligned16(a.norm)) ||
      (a.swiglu && (a.N % 2 != 0 || a.accumulate)))
    return cudaErrorInvalidValue;
  switch (a.w_type) {
    case DType::F16: return launch<__half>(a, stream);
    case DType::BF16: return launch<__nv_bfloat16>(a, stream);
    case DType::F32: break;
  }
  return cudaErrorInvalidValue;
}

}  // namespace adamas::cuda
