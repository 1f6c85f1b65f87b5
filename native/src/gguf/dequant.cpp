// Dequantisation to float32 (see dequant.h for the block layouts). Blocks are decoded exactly as
// ggml's dequantize_row_* do; large tensors are split over OpenMP threads by block.
#include "gguf/dequant.h"

#include <cmath>
#include <cstring>
#include <string>

namespace adamas::gguf {

namespace {

constexpr int64_t kParallelMin = 1 << 14;  // blocks (or elements, for F16/BF16) below which one thread is faster

inline float load_f16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, sizeof h);
  return f16_to_f32(h);
}

struct BlockType {
  uint32_t elems;
  uint32_t bytes;
};

BlockType layout(TensorType type) {
  switch (type) {
    case TensorType::F32: return {1, 4};
    case TensorType::F16: return {1, 2};
    case TensorType::BF16: return {1, 2};
    case TensorType::Q8_0: return {32, 34};
    case TensorType::Q4_0: return {32, 18};
    case TensorType::Q4_1: return {32, 20};
  }
  throw Error("unsupported tensor type " + tensor_type_name(uint32_t(type)) + " (id " +
              std::to_string(uint32_t(type)) + "); supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1");
}

void dequant_q8_0(const uint8_t* src, float* dst, int64_t n_blocks) {
#pragma omp parallel for schedule(static) if (n_blocks >= kParallelMin)
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* blk = src + b * 34;
    float* y = dst + b * 32;
    const float d = load_f16(blk);
    const int8_t* q = reinterpret_cast<const int8_t*>(blk + 2);
    for (int j = 0; j < 32; ++j) y[j] = d * float(q[j]);
  }
}

void dequant_q4_0(const uint8_t* src, float* dst, int64_t n_blocks) {
#pragma omp parallel for schedule(static) if (n_blocks >= kParallelMin)
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* blk = src + b * 18;
    float* y = dst + b * 32;
    const float d = load_f16(blk);
    const uint8_t* qs = blk + 2;
    for (int j = 0; j < 16; ++j) {
      y[j] = d * float((qs[j] & 0x0F) - 8);
      y[j + 16] = d * float((qs[j] >> 4) - 8);
    }
  }
}

void dequant_q4_1(const uint8_t* src, float* dst, int64_t n_blocks) {
#pragma omp parallel for schedule(static) if (n_blocks >= kParallelMin)
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* blk = src + b * 20;
    float* y = dst + b * 32;
    const float d = load_f16(blk);
    const float m = load_f16(blk + 2);
    const uint8_t* qs = blk + 4;
    // fmaf rounds d*q + m once, to the float nearest the value the block encodes; this is also what
    // ggml computes when its compiler contracts x*d + m (FMA targets, CUDA), so no build flag changes it.
    for (int j = 0; j < 16; ++j) {
      y[j] = std::fmaf(d, float(qs[j] & 0x0F), m);
      y[j + 16] = std::fmaf(d, float(qs[j] >> 4), m);
    }
  }
}

void dequant_f16(const uint8_t* src, float* dst, int64_t n) {
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t k = 0; k < n; ++k) dst[k] = load_f16(src + 2 * k);
}

void dequant_bf16(const uint8_t* src, float* dst, int64_t n) {
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t k = 0; k < n; ++k) {
    uint16_t h;
    std::memcpy(&h, src + 2 * k, sizeof h);
    dst[k] = bf16_to_f32(h);
  }
}

}  // namespace

uint32_t block_size(TensorType type) { return layout(type).elems; }

uint64_t type_bytes(TensorType type, uint64_t n) {
  const BlockType b = layout(type);
  if (n % b.elems != 0)
    throw Error(std::to_string(n) + " elements of type " + tensor_type_name(uint32_t(type)) +
                " are not a whole number of blocks of " + std::to_string(b.elems));
  return n / b.elems * b.bytes;
}

void dequantize(TensorType type, const uint8_t* src, float* dst, uint64_t n) {
  const BlockType b = layout(type);
  if (n % b.elems != 0)
    throw Error("dequantize: " + std::to_string(n) + " elements of type " + tensor_type_name(uint32_t(type)) +
                " are not a whole number of blocks of " + std::to_string(b.elems));
  const int64_t n_blocks = static_cast<int64_t>(n / b.elems);
  switch (type) {
    case TensorType::F32: std::memcpy(dst, src, n * sizeof(float)); break;
    case TensorType::F16: dequant_f16(src, dst, n_blocks); break;
    case TensorType::BF16: dequant_bf16(src, dst, n_blocks); break;
    case TensorType::Q8_0: dequant_q8_0(src, dst, n_blocks); break;
    case TensorType::Q4_0: dequant_q4_0(src, dst, n_blocks); break;
    case TensorType::Q4_1: dequant_q4_1(src, dst, n_blocks); break;
  }
}

void dequantize_tensor(const TensorInfo& t, float* dst) {
  const TensorType type = t.type();  // throws, naming the tensor, for unsupported types
  // File::open checked that [data, data + n_bytes) lies inside the mapping; check the pair still agrees.
  if (t.data == nullptr || t.n_bytes != type_bytes(type, t.n_elements))
    throw Error(t.file_path + ": tensor '" + t.name + "' has no data of " + std::to_string(t.n_elements) +
                " elements of type " + tensor_type_name(t.type_id) + " (" + std::to_string(t.n_bytes) + " bytes)");
  dequantize(type, t.data, dst, t.n_elements);
}

}  // namespace adamas::gguf
