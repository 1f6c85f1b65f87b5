// Causal prefill attention on the GPU's tensor cores (the CPU reference: cpu::attend_prefill).
// T new queries at positions pos0 .. pos0 + T - 1 attend over the cache positions [0, pos0 + T),
// which already hold their keys and values: query i sees the positions <= pos0 + i, so a long
// prompt can be run in chunks over the cache the earlier chunks filled.
//
// Flash-attention style (FlashAttention-2's loop): a block takes 128 queries of one head, 8 warps
// of 16 rows; it walks the key tiles of 64 positions (K and V double-buffered in shared memory by
// cp.async), computes S = Q K^T with mma.sync m16n8k16 (fp16 in, fp32 accumulators), keeps the
// running row max and sum in fp32 (exp2 of the scaled logits), and accumulates P V with P rounded
// to fp16 for the second product, O in fp32. Only the tiles that cross the diagonal are masked.
// Query heads of a GQA group read the same K/V head (adjacent blocks, so from L2).
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "attention/cuda/decode.h"

namespace adamas::cuda {

// out[t][h] = softmax(scale * q[t][h] . K[0 .. pos0 + t]^T) V[0 .. pos0 + t] for every query head h,
// K and V those of KV head h / (n_heads / kv.n_kv_heads). q and out are [T][n_heads][D]; head_dim
// 64 or 128 (another throws InvalidArgument naming it, dispatch.cuh); other invalid arguments
// (T < 1, pos0 < 0, n_heads not a multiple of the KV heads) return cudaErrorInvalidValue.
cudaError_t prefill_attention(__half* out, const __half* q, const DeviceKV& kv, int n_heads, int T, int pos0,
                              float scale, cudaStream_t stream);
cudaError_t prefill_attention(__nv_bfloat16* out, const __half* q, const DeviceKV& kv, int n_heads, int T, int pos0,
                              float scale, cudaStream_t stream);

}  // namespace adamas::cuda
