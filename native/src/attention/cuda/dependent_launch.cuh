// Programmatic dependent launch (Hopper and later): a kernel launched with launch_dependent()
// may be scheduled while the kernel before it in the stream is still running, so its launch and
// ramp overlap that kernel's tail instead of following it. The contract, for every such kernel:
// each block calls wait_for_prior_grids() before it touches global memory that earlier work in the
// stream writes or reads (it returns once those grids have completed and their writes are
// visible), and may call allow_dependent_grids() (here: at the top): once every block of the
// kernel has called it or exited, the kernel after it can be scheduled into the room this one
// leaves.
// Elsewhere (older GPUs, code compiled for them, ADAMAS_CUDA_PDL=0) it is a plain launch and the
// two calls do nothing.
#pragma once
#include <cuda_runtime.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <utility>

namespace adamas::cuda {

__device__ __forceinline__ void wait_for_prior_grids() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  cudaGridDependencySynchronize();
#endif
}

__device__ __forceinline__ void allow_dependent_grids() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  cudaTriggerProgrammaticLaunchCompletion();
#endif
}

// Whether `kernel` runs code that honours the contract above on the current device: compiled
// for compute capability 9.0 or later (a kernel JIT-compiled from older PTX lacks the waits).
// Looked up once per kernel and device.
inline bool dependent_launch_supported(const void* kernel) {
  static const bool enabled = [] {
    const char* v = std::getenv("ADAMAS_CUDA_PDL");  // "0"/"off": plain launches (debugging)
    return !(v && (std::strcmp(v, "0") == 0 || std::strcmp(v, "off") == 0));
  }();
  if (!enabled) return false;
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  static std::mutex mutex;
  static std::map<std::pair<int, const void*>, bool> known;
  const std::lock_guard<std::mutex> lock(mutex);
  const auto [at, added] = known.try_emplace({device, kernel}, false);
  if (added) {
    cudaFuncAttributes attr{};
    if (cudaFuncGetAttributes(&attr, kernel) == cudaSuccess) at->second = attr.ptxVersion >= 90;
    else cudaGetLastError();  // not sticky: plain launches
  }
  return at->second;
}

template <class... Params, class... Args>
cudaError_t launch_dependent(void (*kernel)(Params...), dim3 grid, dim3 block, size_t smem, cudaStream_t stream,
                             Args&&... args) {
  cudaLaunchAttribute attr{};
  attr.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr.val.programmaticStreamSerializationAllowed = 1;
  cudaLaunchConfig_t config{};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = smem;
  config.stream = stream;
  config.attrs = &attr;
  config.numAttrs = dependent_launch_supported(reinterpret_cast<const void*>(kernel)) ? 1 : 0;
  return cudaLaunchKernelEx(&config, kernel, std::forward<Args>(args)...);
}

}  // namespace adamas::cuda
