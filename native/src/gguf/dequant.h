// Dequantisation of GGUF tensor data into float32 (the CPU compute type).
// Block layouts (32 elements a block) follow ggml-common.h:
//   Q8_0: f16 d, int8 q[32]            x = d*q
//   Q4_0: f16 d, u8 qs[16]             x[j] = d*((qs[j]&15)-8), x[j+16] = d*((qs[j]>>4)-8)
//   Q4_1: f16 d, f16 m, u8 qs[16]      x[j] = d*(qs[j]&15)+m,   x[j+16] = d*(qs[j]>>4)+m
#pragma once
#include <cstdint>

#include "gguf/gguf.h"
#include "tensor/half.h"

namespace adamas::gguf {

// The fp16 and bf16 conversions live in tensor/half.h (the CPU's fp16 KV cache rounds with them).
using adamas::bf16_to_f32;
using adamas::f16_to_f32;
using adamas::f32_to_f16;

// Bytes taken by n elements of a type (n must be a multiple of the block size for block types).
uint64_t type_bytes(TensorType type, uint64_t n);
uint32_t block_size(TensorType type);

// Decodes n elements starting at src into dst. Throws Error for unsupported types or an n that is
// not a multiple of the block size.
void dequantize(TensorType type, const uint8_t* src, float* dst, uint64_t n);

// Decodes a whole tensor (checks that it lies inside the mapping); names the tensor on error.
void dequantize_tensor(const TensorInfo& t, float* dst);

}  // namespace adamas::gguf
