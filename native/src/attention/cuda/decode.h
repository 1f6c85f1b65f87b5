// Decode attention on the GPU: the query heads of one new token against the KV cache, exact
// softmax accumulated in fp32 (the CPU reference: cpu/attend.h). q and out are fp32 [n_heads][D];
// K and V are fp16, head-major [n_kv_heads][capacity][D] as in tensor/kv_cache.h.
//
// Split-K (flash-decoding): a block takes one list of positions (a KV head's, or one query
// head's for sparse attention) and a chunk of it, and keeps the running max, sum and weighted
// values for every query head that reads that list, so the heads of a GQA group share the loads.
// Chunks are sized so that the grid fills the GPU once; when a list is split, the last of its
// blocks to finish merges the chunks (a counter per list), so a step is one launch.
#pragma once
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace adamas::cuda {

// One layer's fp16 KV cache on the device; KV head kvh starts at k + kvh * head_stride.
struct DeviceKV {
  const __half* k = nullptr;
  const __half* v = nullptr;
  int64_t head_stride = 0;  // elements between KV heads (capacity * head_dim)
  int n_kv_heads = 0;
  int head_dim = 0;
};

// Bytes of scratch the launchers below need for n_heads query heads. The workspace must be
// zeroed once before its first use; every launch leaves it zeroed again.
size_t decode_workspace_bytes(int n_heads, int head_dim);

// out[h] = softmax(scale * q[h] . K^T) V over positions [0, n) of KV head h / (n_heads / n_kv_heads).
cudaError_t decode_attention(float* out, const float* q, const DeviceKV& kv, int n_heads, int n, float scale,
                             void* workspace, cudaStream_t stream);

// The same over listed positions. List l (idx + l * idx_stride, n_idx positions, any order, each
// below the cache length) is read by query heads [l * heads_per_list, (l + 1) * heads_per_list):
// heads_per_list = 1 gives one list per query head, = n_heads / n_kv_heads one per KV head.
// idx_stride 0 lets every head read the same list.
cudaError_t sparse_decode_attention(float* out, const float* q, const DeviceKV& kv, int n_heads, const int32_t* idx,
                                    int64_t idx_stride, int n_idx, int heads_per_list, float scale, void* workspace,
                                    cudaStream_t stream);

}  // namespace adamas::cuda
