// Values a float16 holds exactly: the selftest draws its inputs rounded to them, so that the CPU
// (float32) and CUDA (fp16 K/V) layers see the same numbers.
#pragma once
#include <cmath>

namespace adamas::selftest {

// x rounded to the nearest float16 (ties to even), as a float; |x| beyond 65504 is not handled
// (the selftest's inputs stay far below it).
inline float round_to_half(float x) {
  if (x == 0.0f || !std::isfinite(x)) return x;
  int e = 0;
  std::frexp(x, &e);                               // |x| in [2^(e-1), 2^e)
  const int quantum_exp = e - 1 < -14 ? -24 : e - 11;  // 10 mantissa bits; subnormals below 2^-14
  const double q = std::ldexp(1.0, quantum_exp);
  return float(std::nearbyint(double(x) / q) * q);
}

}  // namespace adamas::selftest
