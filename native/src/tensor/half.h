// IEEE binary16 (fp16) and bfloat16 conversions of single floats: decoding F16/BF16 tensors, and
// rounding a float to the nearest fp16 where a cache holds fp16 values (KVCache with kv_type f16).
#pragma once
#include <cstdint>

namespace adamas {

float f16_to_f32(uint16_t h);
float bf16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);  // round to nearest even; overflow to inf, NaN stays NaN

// The float nearest to x that an fp16 holds (round to nearest even), as a float.
inline float round_to_f16(float x) { return f16_to_f32(f32_to_f16(x)); }

}  // namespace adamas
