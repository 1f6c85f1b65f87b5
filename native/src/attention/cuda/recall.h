// The recall instrumentation on the GPU: how much of full attention's softmax mass falls on a
// selection. One block per query head makes three passes over the head's keys (the largest
// logit, the sum of the exponentials, the sum over the listed positions) in fp32; it is
// instrumentation, written for clarity rather than speed.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "attention/cuda/decode.h"

namespace adamas::cuda {

// mass[h] (device, n_heads floats) = sum over the listed positions j of p[j], with
// p = softmax(scale * q[h] . K^T) over positions [0, n) of KV head h / (n_heads / n_kv_heads).
// Lists as in sparse_decode_attention (decode.h): head h reads idx + (h / heads_per_list) *
// idx_stride, n_idx positions, each below n; idx null: every position (a mass of 1 up to rounding).
cudaError_t selected_mass(float* mass, const float* q, const DeviceKV& kv, int n_heads, int n, const int32_t* idx,
                          int64_t idx_stride, int n_idx, int heads_per_list, float scale, cudaStream_t stream);

}  // namespace adamas::cuda
