// A standard normal value per (seed, i) from a counter-based hash (Box-Muller on two uniforms), so
// gigabytes of random inputs (the kernel benchmark's, the synthetic models' weights) are drawn on
// the device in milliseconds, reproducibly.
#pragma once
#include <cstdint>

namespace adamas::cuda {

__device__ __forceinline__ float hash_normal(uint64_t seed, uint64_t i) {
  uint64_t z = seed * 0x9e3779b97f4a7c15ull + i * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  const float u1 = (float(uint32_t(z >> 40)) + 1.0f) / 16777217.0f;  // (0, 1]
  const float u2 = float(uint32_t(z) & 0xffffffu) / 16777216.0f;
  return sqrtf(-2.0f * logf(u1)) * cospif(2.0f * u2);
}

}  // namespace adamas::cuda
