// fp16 and bf16 conversions (see half.h).
#include "tensor/half.h"

#include <cstring>

namespace adamas {

namespace {

inline float bits_to_f32(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

inline uint32_t f32_to_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

}  // namespace

float f16_to_f32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1F;
  const uint32_t mant = h & 0x3FF;
  if (exp == 0x1F) return bits_to_f32(sign | 0x7F800000 | (mant << 13));  // inf, or NaN keeping its payload
  if (exp != 0) return bits_to_f32(sign | ((exp + 127 - 15) << 23) | (mant << 13));
  // Zero or subnormal: mant * 2^-24, exact in float.
  const float mag = float(mant) * bits_to_f32(0x33800000);  // 2^-24
  return sign ? -mag : mag;
}

float bf16_to_f32(uint16_t h) { return bits_to_f32(uint32_t(h) << 16); }

uint16_t f32_to_f16(float f) {
  const uint32_t x = f32_to_bits(f);
  const uint16_t sign = uint16_t((x >> 16) & 0x8000);
  const uint32_t ax = x & 0x7FFFFFFF;
  if (ax > 0x7F800000) return sign | 0x7E00 | uint16_t((ax >> 13) & 0x3FF);  // NaN: quiet, keep the payload top
  if (ax >= 0x477FF000) return sign | 0x7C00;  // >= 65520 (65504 + half an ulp, a tie to even) is inf
  const uint32_t e = ax >> 23;
  const uint32_t mant = (ax & 0x7FFFFF) | 0x800000;
  uint32_t shift, q;
  if (e < 113) {  // below 2^-14: a subnormal half, in units of 2^-24
    if (ax <= 0x33000000) return sign;  // <= 2^-25: rounds to zero (2^-25 itself is a tie, to even)
    shift = 126 - e;                     // 14..24
    q = mant >> shift;
  } else {
    shift = 13;
    q = ((e - 112) << 10) | ((ax & 0x7FFFFF) >> 13);  // a carry out of the mantissa bumps the exponent
  }
  const uint32_t rest = (e < 113 ? mant : ax) & ((1u << shift) - 1);
  const uint32_t half = 1u << (shift - 1);
  if (rest > half || (rest == half && (q & 1))) ++q;
  return sign | uint16_t(q);
}

}  // namespace adamas
