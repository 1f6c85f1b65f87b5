// The decode step's matrix-vector products: one token, so a product's time is its weights' bytes.
// out[N] (+)= W[N][K] . x, W of a 16-bit type (GGUF order: a row is one output feature), x and out
// fp32, fp32 accumulation (no 16-bit rounding of x, unlike the GEMM path). Two fusions save the
// small kernels around a product: x normalised on the way in (RMSNorm, as cpu::rmsnorm), and the
// FFN's gate/up rows joined on the way out (SwiGLU, as cpu::swiglu).
#pragma once
#include <cuda_runtime.h>

#include "model/cuda/memory.h"

namespace adamas::cuda {

struct GemvArgs {
  float* out = nullptr;         // [N], or [N / 2] with swiglu
  const void* w = nullptr;      // [N][K] of w_type; with swiglu the gate rows [0, N/2), then the up rows
  DType w_type = DType::F16;
  const float* x = nullptr;     // [K]
  const float* norm = nullptr;  // [K] RMSNorm weight: x becomes norm * (x / rms(x)); null: x as it is
  float eps = 0.0f;
  int N = 0, K = 0;
  bool accumulate = false;      // out += W . x (the residual adds)
  bool swiglu = false;          // out[i] = silu(W[i] . x) * (W[N/2 + i] . x)
};

// Whether gemv takes these operands: K a multiple of 8, W and x 16-byte aligned.
bool gemv_supports(const void* w, const float* x, int K);

cudaError_t gemv(const GemvArgs& a, cudaStream_t stream);

}  // namespace adamas::cuda
