// Decode attention on the GPU: the query heads of one new token against the KV cache, exact
// softmax accumulated in fp32 (the CPU reference: cpu/attend.h). q and out are fp32 [n_heads][D];
// K and V are fp16, head-major [n_kv_heads][capacity][D] as in tensor/kv_cache.h. Every launcher
// takes a batch of sequences of different lengths (DecodeBatch, SeqLengths); a length may live in
// device memory, so that a captured CUDA graph can be replayed at any length.
//
// One kernel for dense, listed and windowed (StreamingLLM) positions. A block takes one list of
// positions (a KV head's, or one query head's for sparse attention) of one sequence and a chunk
// of it; each of its 4 warps walks tiles of 16 positions with the tensor cores
// (mma.m16n8k16, fp16 in, fp32 accumulate): S = Q K^T with the (up to 8) query heads reading the
// list as the rows and a second copy of them holding the fp16 rounding error of q (q = hi + lo),
// so the logits are as exact as fp32 ones; then P V with P split the same way. Each warp streams
// its tiles of K and V (gathered rows for a list) into shared memory with cp.async, two tiles
// ahead of the one it computes on. The chunk size comes from the lengths at run time: the grid
// is fixed by the shape and the host's bounds on the lengths (one wave of blocks where it can),
// never by device values, and blocks past the work leave at once. When a list is split, the last
// of its blocks to finish merges the chunks (a counter per list), so a step is one launch.
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

// Lengths of the sequences of a batch: dev[b] (device memory, read when the kernel runs) or, with
// dev null, n for every sequence.
struct SeqLengths {
  const int* dev = nullptr;
  int n = 0;
};

// Sequences of one step: sequence b's queries at q + b * q_stride (out likewise) and its cache at
// kv.k / kv.v + b * kv_stride. Strides 0 with size 1 for one sequence.
struct DecodeBatch {
  int size = 1;
  int64_t q_stride = 0;   // floats; a multiple of 4
  int64_t kv_stride = 0;  // elements; a multiple of 8
};

// Sequences one launch takes at most.
constexpr int kMaxDecodeBatch = 64;

// Bytes of scratch the launchers below need for n_heads query heads (any batch). The workspace
// must be zeroed once before its first use; every launch leaves it zeroed again.
size_t decode_workspace_bytes(int n_heads, int head_dim);

// out[b][h] = softmax(scale * q[b][h] . K_b^T) V_b over positions [0, len(b)) of KV head
// h / (n_heads / n_kv_heads). A sequence of length 0 gets zeros.
cudaError_t decode_attention(float* out, const float* q, const DeviceKV& kv, int n_heads, const SeqLengths& len,
                             const DecodeBatch& batch, float scale, void* workspace, cudaStream_t stream);

// Listed positions: list l of sequence b (idx + b * batch_stride + l * list_stride, len(b)
// positions, any order, each below that sequence's cache length) is read by query heads
// [l * heads_per_list, (l + 1) * heads_per_list): heads_per_list = 1 gives one list per query
// head, = n_heads / n_kv_heads one per KV head. list_stride 0 lets every head read the same list.
// With len.dev, a len.n > 0 bounds every list's length (a longer list is cut to len.n) and lets the
// grid fit short lists; len.n = 0 means no bound is known.
struct PositionLists {
  const int32_t* idx = nullptr;
  int64_t list_stride = 0;
  int64_t batch_stride = 0;
  SeqLengths len;
  int heads_per_list = 1;
};

cudaError_t sparse_decode_attention(float* out, const float* q, const DeviceKV& kv, int n_heads,
                                    const PositionLists& lists, const DecodeBatch& batch, float scale,
                                    void* workspace, cudaStream_t stream);

// StreamingLLM's positions, computed in the kernel: of a sequence of length n, the first
// sink' = min(sink, budget - 1) and the budget - sink' most recent (everything when n <= budget),
// read by every query head.
struct SinkWindow {
  int budget = 0;
  int sink = 0;
  SeqLengths n;
};

cudaError_t window_decode_attention(float* out, const float* q, const DeviceKV& kv, int n_heads,
                                    const SinkWindow& window, const DecodeBatch& batch, float scale, void* workspace,
                                    cudaStream_t stream);

// One sequence, lengths from the host (the forms the CPU tests and older callers use).
inline cudaError_t decode_attention(float* out, const float* q, const DeviceKV& kv, int n_heads, int n, float scale,
                                    void* workspace, cudaStream_t stream) {
  return decode_attention(out, q, kv, n_heads, SeqLengths{nullptr, n}, DecodeBatch{}, scale, workspace, stream);
}

inline cudaError_t sparse_decode_attention(float* out, const float* q, const DeviceKV& kv, int n_heads,
                                           const int32_t* idx, int64_t idx_stride, int n_idx, int heads_per_list,
                                           float scale, void* workspace, cudaStream_t stream) {
  const PositionLists lists{idx, idx_stride, 0, SeqLengths{nullptr, n_idx}, heads_per_list};
  return sparse_decode_attention(out, q, kv, n_heads, lists, DecodeBatch{}, scale, workspace, stream);
}

}  // namespace adamas::cuda
