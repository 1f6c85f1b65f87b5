// The forward pass's matrix products on cuBLASLt: out[M][N] (+)= x[M][K] . W[N][K]^T, row-major,
// as cpu::matmul (GGUF order: a weight row is one output feature). x and W of one type (16-bit, or
// fp32 for f32 weights), fp32 accumulation (no TF32), out fp32 or 16-bit. One plan per shape
// (layouts and the heuristic's best algorithm, for the pointers' alignment), made at first use:
// prepare() makes it ahead, so that the launches of a CUDA graph capture only enqueue work. Needs
// a build with cuBLAS.
#pragma once
#include <cuda_runtime.h>

#include <map>
#include <memory>
#include <tuple>

#include "model/cuda/memory.h"

namespace adamas::cuda {

class Gemm {
 public:
  explicit Gemm(cudaStream_t stream);  // a cuBLASLt handle and a 32 MiB workspace
  ~Gemm();
  Gemm(const Gemm&) = delete;
  Gemm& operator=(const Gemm&) = delete;

  // accumulate: out += x . W^T (the residual adds), else out = x . W^T. Throws cuda::Error naming
  // the shape when cuBLASLt has no algorithm for it or fails.
  void run(void* out, DType out_type, const void* x, const void* w, DType in_type, int M, int N, int K,
           bool accumulate = false);
  // Makes the plan of run() with 256-byte aligned pointers (cudaMalloc's) without launching.
  void prepare(DType out_type, DType in_type, int M, int N, int K, bool accumulate = false);

 private:
  struct Plan;
  using Key = std::tuple<int, int, int, int, int, bool, unsigned>;  // M, N, K, in, out, accumulate, alignments
  Plan& plan(DType out_type, DType in_type, int M, int N, int K, bool accumulate, unsigned alignment);

  cudaStream_t stream_;
  void* handle_ = nullptr;  // cublasLtHandle_t
  DeviceBuffer workspace_;
  std::map<Key, std::unique_ptr<Plan>> plans_;
};

}  // namespace adamas::cuda
