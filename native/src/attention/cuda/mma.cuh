// Warp-level tensor-core and asynchronous-copy helpers of the decode kernels (sm_80 and later).
// mma.m16n8k16 (row.col, fp16 inputs, fp32 accumulate), for lane = 4 r + c:
//   A (16 x 16) words: a[0] = (row r, k 2c, 2c+1), a[1] = (row r + 8, k 2c, 2c+1),
//                      a[2] = (row r, k 2c+8, 2c+9), a[3] = (row r + 8, k 2c+8, 2c+9)
//   B (16 x 8)  words: b0 = (k 2c, 2c+1; column r), b1 = (k 2c+8, 2c+9; column r)
//   C (16 x 8) floats: c[0], c[1] = (row r, columns 2c, 2c+1), c[2], c[3] = (row r + 8, same)
// A word holds two fp16 values, the lower index in the low half.
#pragma once
#include <cuda_fp16.h>

#include <cstdint>

namespace adamas::cuda {

// d += A B.
__device__ __forceinline__ void mma_16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// The four 8 x 8 fp16 matrices whose rows (16 bytes each) lanes 8i .. 8i + 7 address -> r[i], held
// as lane 4r + c holding (row r, columns 2c, 2c+1); with trans, (rows 2c, 2c+1; column r).
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const void* row) {
  const uint32_t s = static_cast<uint32_t>(__cvta_generic_to_shared(row));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(s)
               : "memory");
}

__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const void* row) {
  const uint32_t s = static_cast<uint32_t>(__cvta_generic_to_shared(row));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(s)
               : "memory");
}

// 16 bytes global -> shared, asynchronously (L2 only); zeros without reading src unless ok.
__device__ __forceinline__ void cp_async_16(void* dst, const void* src, bool ok) {
  const uint32_t s = static_cast<uint32_t>(__cvta_generic_to_shared(dst));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(src), "r"(ok ? 16 : 0) : "memory");
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }

// Waits until at most n of this thread's committed groups are still in flight.
template <int n>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(n) : "memory");
}

__device__ __forceinline__ uint32_t half2_bits(__half2 h) { return *reinterpret_cast<uint32_t*>(&h); }

// (x0, x1) = hi + lo to about 22 bits: hi their fp16 rounding, lo the fp16 rounding of the rest.
__device__ __forceinline__ void split_half2(float x0, float x1, uint32_t& hi, uint32_t& lo) {
  const __half2 h = __floats2half2_rn(x0, x1);
  const float2 hf = __half22float2(h);
  hi = half2_bits(h);
  lo = half2_bits(__floats2half2_rn(x0 - hf.x, x1 - hf.y));
}

}  // namespace adamas::cuda
