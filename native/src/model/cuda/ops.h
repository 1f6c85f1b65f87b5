// Kernels of the forward pass on the device, each a launcher over raw pointers and a stream that
// returns the launch's cudaError_t (cudaErrorInvalidValue for arguments it does not take).
// Dims legend: T tokens, C d_model, F d_ff, H / KV query / KV heads, D head_dim.
// The residual stream x is fp32 [T][C]; the inputs of the matrix products are of the weights' type
// (`type`, F16 or BF16); norms, biases and what feeds the CPU-exact steps (RoPE, attention's q)
// are fp32.
#pragma once
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "model/cuda/memory.h"

namespace adamas::cuda {

// x[t] = table[tokens[t]] as floats; table [vocab][C] of `type` (F16 or BF16).
cudaError_t embed_tokens(float* x, const void* table, DType type, const int32_t* tokens, int T, int C,
                         cudaStream_t stream);

// out[t] = x[t] / sqrt(mean(x[t]^2) + eps) * w (as cpu::rmsnorm), out of any type; w fp32 [C].
cudaError_t rmsnorm(void* out, DType out_type, const float* x, const float* w, int T, int C, float eps,
                    cudaStream_t stream);

// The attention inputs of T tokens after the QKV product.
struct QkvArgs {
  const float* qkv = nullptr;   // [T][(H + 2 KV) D]: the q heads, then k, then v
  const float* bias = nullptr;  // [(H + 2 KV) D] added first (qwen2), or null
  const float2* rope = nullptr;  // [positions][D/2] (cos, sin) as Rope::angles gives them
  // Position of token t: (pos_dev ? *pos_dev : 0) + pos_offset + t. The decode step reads it from
  // device memory, so that a captured graph replays at every position.
  const int32_t* pos_dev = nullptr;
  int pos_offset = 0;
  void* q = nullptr;          // out: rotated queries [T][H][D], of q_type (F32 or F16)
  DType q_type = DType::F32;
  __half* k_cache = nullptr;  // out: rotated keys at k_cache + kvh * head_stride + pos * D
  __half* v_cache = nullptr;  // out: values, the same layout
  int64_t head_stride = 0;
  int T = 0, H = 0, KV = 0, D = 0;
};
// Adds the bias, rotates q and k (rotate-half layout, as Rope::rotate), writes q and the KV cache.
cudaError_t rope_qkv(const QkvArgs& a, cudaStream_t stream);

// h[t][i] = silu(gate_up[t][i]) * gate_up[t][F + i]; gate_up fp32 [T][2F], h of `type`.
cudaError_t swiglu(void* h, DType type, const float* gate_up, int T, int F, cudaStream_t stream);

// out[i] = x[i] in `type` (round to nearest even), n elements.
cudaError_t convert_from_f32(void* out, DType type, const float* x, int64_t n, cudaStream_t stream);

// *pos += 1: the decode step's position, kept in device memory.
cudaError_t advance_position(int32_t* pos, cudaStream_t stream);

}  // namespace adamas::cuda
