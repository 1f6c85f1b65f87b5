#include <cstdint>

#include "attention/cuda/dispatch.cuh"
#include "attention/cuda/prefill.h"

namespace adamas::cuda {

namespace {

constexpr int kWarps = 8;
constexpr int kThreads = kWarps * 32;
constexpr int kBlockQ = kWarps * 16;  // queries of a block: 16 rows a warp
constexpr float kLog2e = 1.4426950408889634f;

struct Args {
  void* out;
  const __half* q;
  const __half* k;
  const __half* v;
  int64_t head_stride;
  int n_heads, group, T, pos0;
  float scale_log2;  // softmax scale * log2(e): exp2 of the scaled logits
};

// ---- PTX wrappers ------------------------------------------------------------------------------

__device__ __forceinline__ void cp_async16(void* smem, const void* gmem, bool valid) {
  const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  const int bytes = valid ? 16 : 0;  // 0: the 16 bytes are zero-filled, nothing is read
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(gmem), "r"(bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

__device__ __forceinline__ void ldmatrix_x4(unsigned (&r)[4], unsigned s) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(s));
}
__device__ __forceinline__ void ldmatrix_x4_trans(unsigned (&r)[4], unsigned s) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(s));
}

// c += a . b for a 16x16 fp16 A (row-major fragments), a 16x8 fp16 B (column-major), fp32 C.
// Fragments (g = lane / 4, t = lane % 4): a0 (g, 2t..2t+1), a1 (g+8, 2t..), a2 (g, 8+2t..),
// a3 (g+8, 8+2t..); b0 (k 2t..2t+1, n g), b1 (k 8+2t.., n g); c0,c1 (g, 2t..), c2,c3 (g+8, 2t..).
__device__ __forceinline__ void mma_16816(float (&c)[4], const unsigned (&a)[4], unsigned b0, unsigned b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ float exp2_approx(float x) {  // exp2(-inf) = 0
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
  return y;
}

__device__ __forceinline__ unsigned pack_half2(float lo, float hi) {
  union {
    __half2 h;
    unsigned u;
  } p;
  p.h = __floats2half2_rn(lo, hi);
  return p.u;
}

__device__ __forceinline__ void store2(__half* p, float x, float y) {
  *reinterpret_cast<__half2*>(p) = __floats2half2_rn(x, y);
}
__device__ __forceinline__ void store2(__nv_bfloat16* p, float x, float y) {
  *reinterpret_cast<__nv_bfloat162*>(p) = __floats2bfloat162_rn(x, y);
}

// ---- shared-memory tiles -----------------------------------------------------------------------

// Tiles are rows of D halves in 16-byte chunks; chunk c of row r is stored at c ^ (r % 8), so the
// 8 rows that one ldmatrix matrix reads (same chunk, consecutive rows) hit 8 different bank groups.
template <int D>
__device__ __forceinline__ int swizzle(int row, int chunk) {
  return row * (D / 8) + (chunk ^ (row & 7));
}

// ROWS rows of D halves from src (row r at src + r * row_stride); rows >= valid are zero-filled.
template <int D, int ROWS>
__device__ __forceinline__ void load_tile(uint4* dst, const __half* src, int64_t row_stride, int valid, int tid) {
  constexpr int kChunks = D / 8;
#pragma unroll
  for (int e = tid; e < ROWS * kChunks; e += kThreads) {
    const int row = e / kChunks, chunk = e % kChunks;
    const bool ok = row < valid;
    cp_async16(dst + swizzle<D>(row, chunk), src + (ok ? row * row_stride : 0) + chunk * 8, ok);
  }
}

// ---- the kernel ----------------------------------------------------------------------------------

// Key tile: 64 positions for head_dim 64; 32 for 128, so that the accumulators (O: D/2 floats a
// thread, S: BK / 2) leave room for two blocks a multiprocessor (128 registers).
template <int D>
constexpr int key_tile() {
  return D == 128 ? 32 : 64;
}

template <int D>
constexpr int smem_bytes() {
  return (kBlockQ + 4 * key_tile<D>()) * D * int(sizeof(__half));
}

// Shared-memory byte address of 16-byte chunk (2 * c + c_lane) of a tile row whose low 3 bits are
// lane & 7 (every row an ldmatrix lane points at): chunk 2c + c_lane with c = 4 ch + cl lands at
// 8 ch + ((2 cl + c_lane) ^ (lane & 7)), so four addresses a lane (cl = 0..3) serve every c, the
// rest being immediates.
__device__ __forceinline__ void chunk_addresses(unsigned (&addr)[4], unsigned row_addr, int c_lane, int lane) {
#pragma unroll
  for (int cl = 0; cl < 4; ++cl) addr[cl] = row_addr + 16u * unsigned((2 * cl + c_lane) ^ (lane & 7));
}

// Block (h, y): query head h, the queries [q0, q0 + kBlockQ) of the chunk, heaviest (last) first.
template <int D, class TOut>
__global__ void __launch_bounds__(kThreads, 2) prefill_kernel(const Args a) {
  constexpr int BK = key_tile<D>();
  constexpr int kRowBytes = D * 2, kKTileBytes = BK * kRowBytes;
  extern __shared__ uint4 smem[];
  uint4* sQ = smem;
  uint4* sK = sQ + kBlockQ * D / 8;  // two buffers
  uint4* sV = sK + 2 * BK * D / 8;

  const int h = blockIdx.x, kvh = h / a.group;
  const int q0 = (gridDim.y - 1 - blockIdx.y) * kBlockQ;
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int g = lane / 4, t4 = lane % 4;
  const int kv_len = a.pos0 + a.T;
  const int n_tiles = (a.pos0 + min(q0 + kBlockQ, a.T) - 1) / BK + 1;  // tiles the block's last query sees

  const __half* K = a.k + kvh * a.head_stride;
  const __half* V = a.v + kvh * a.head_stride;
  load_tile<D, kBlockQ>(sQ, a.q + (int64_t(q0) * a.n_heads + h) * D, int64_t(a.n_heads) * D, a.T - q0, tid);
  load_tile<D, BK>(sK, K, D, kv_len, tid);
  load_tile<D, BK>(sV, V, D, kv_len, tid);
  cp_async_commit();

  // ldmatrix addresses (see chunk_addresses): Q rows r0 + lane % 16, chunk halves by lane / 16;
  // K rows lane % 8 + 8 (lane / 16) of a 16-key pair, chunk halves by (lane / 8) % 2; V rows
  // lane % 16 of 16 keys, chunk halves by lane / 16.
  const int r0 = warp * 16;
  unsigned q_addr[4], k_addr[4], v_addr[4];
  chunk_addresses(q_addr, unsigned(__cvta_generic_to_shared(sQ)) + (r0 + (lane & 15)) * kRowBytes, lane >> 4, lane);
  chunk_addresses(k_addr, unsigned(__cvta_generic_to_shared(sK)) + ((lane & 7) + ((lane >> 4) << 3)) * kRowBytes,
                  (lane >> 3) & 1, lane);
  chunk_addresses(v_addr, unsigned(__cvta_generic_to_shared(sV)) + (lane & 15) * kRowBytes, lane >> 4, lane);

  // This thread holds rows g and g + 8 of the warp's 16: query positions row_pos and row_pos + 8.
  const int warp_pos = a.pos0 + q0 + r0;  // position of the warp's first row
  const int row_pos = warp_pos + g;
  float o[D / 8][4];
#pragma unroll
  for (int i = 0; i < D / 8; ++i) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.0f;
  float m[2] = {-INFINITY, -INFINITY};  // running max of the scaled logits (log2 units)
  float l[2] = {0.0f, 0.0f};            // this thread's part of the running sum

  for (int kt = 0; kt < n_tiles; ++kt) {
    const int cur = kt & 1;
    if (kt + 1 < n_tiles) {  // the next tile flies while this one is used
      const int next = (kt + 1) * BK;
      load_tile<D, BK>(sK + (cur ^ 1) * (BK * D / 8), K + int64_t(next) * D, D, kv_len - next, tid);
      load_tile<D, BK>(sV + (cur ^ 1) * (BK * D / 8), V + int64_t(next) * D, D, kv_len - next, tid);
    }
    cp_async_commit();
    cp_async_wait<1>();
    __syncthreads();
    const unsigned buf = unsigned(cur * kKTileBytes);
    const int k0 = kt * BK;

    // S = Q K^T: 16 rows x BK keys, BK / 8 accumulator tiles of 8 keys.
    float s[BK / 8][4];
#pragma unroll
    for (int i = 0; i < BK / 8; ++i) s[i][0] = s[i][1] = s[i][2] = s[i][3] = 0.0f;
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
      unsigned qa[4];
      ldmatrix_x4(qa, q_addr[kk & 3] + (kk >> 2) * 128);
#pragma unroll
      for (int np = 0; np < BK / 16; ++np) {
        unsigned kb[4];  // b0, b1 of key tiles 2np and 2np + 1
        ldmatrix_x4(kb, k_addr[kk & 3] + buf + np * 16 * kRowBytes + (kk >> 2) * 128);
        mma_16816(s[2 * np], qa, kb[0], kb[1]);
        mma_16816(s[2 * np + 1], qa, kb[2], kb[3]);
      }
    }
    if (k0 + BK - 1 > warp_pos) {  // the tile crosses the diagonal of some row of the warp
#pragma unroll
      for (int nt = 0; nt < BK / 8; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e)
          if (k0 + nt * 8 + 2 * t4 + (e & 1) > row_pos + (e >> 1) * 8) s[nt][e] = -INFINITY;
    }

    // Online softmax: new row max over the quad that shares the row, rescale what came before.
    float base[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      float mx = -INFINITY;
#pragma unroll
      for (int nt = 0; nt < BK / 8; ++nt) mx = fmaxf(mx, fmaxf(s[nt][2 * r], s[nt][2 * r + 1]));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
      const float m_new = fmaxf(m[r], mx * a.scale_log2);
      base[r] = m_new == -INFINITY ? 0.0f : m_new;  // a row that has seen nothing keeps p = 0
      const float corr = exp2_approx(m[r] - base[r]);
      m[r] = m_new;
      l[r] *= corr;
#pragma unroll
      for (int dt = 0; dt < D / 8; ++dt) {
        o[dt][2 * r] *= corr;
        o[dt][2 * r + 1] *= corr;
      }
    }

    // O += P V, 16 keys a step: P's accumulator tiles 2kc and 2kc + 1 are the A fragment.
#pragma unroll
    for (int kc = 0; kc < BK / 16; ++kc) {
      float p[2][4];
#pragma unroll
      for (int j = 0; j < 2; ++j)
#pragma unroll
        for (int e = 0; e < 4; ++e) p[j][e] = exp2_approx(fmaf(s[2 * kc + j][e], a.scale_log2, -base[e >> 1]));
      l[0] += (p[0][0] + p[0][1]) + (p[1][0] + p[1][1]);
      l[1] += (p[0][2] + p[0][3]) + (p[1][2] + p[1][3]);
      const unsigned pa[4] = {pack_half2(p[0][0], p[0][1]), pack_half2(p[0][2], p[0][3]),
                              pack_half2(p[1][0], p[1][1]), pack_half2(p[1][2], p[1][3])};
#pragma unroll
      for (int dp = 0; dp < D / 16; ++dp) {
        unsigned vb[4];  // b0, b1 of channel tiles 2dp and 2dp + 1
        ldmatrix_x4_trans(vb, v_addr[dp & 3] + buf + kc * 16 * kRowBytes + (dp >> 2) * 128);
        mma_16816(o[2 * dp], pa, vb[0], vb[1]);
        mma_16816(o[2 * dp + 1], pa, vb[2], vb[3]);
      }
    }
    __syncthreads();  // the buffer just read is the one the next iteration loads into
  }

  TOut* out = static_cast<TOut*>(a.out);
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    float sum = l[r];
    sum += __shfl_xor_sync(0xffffffffu, sum, 1);
    sum += __shfl_xor_sync(0xffffffffu, sum, 2);
    const int i = q0 + r0 + g + 8 * r;  // query index in the chunk
    if (i >= a.T) continue;
    const float inv = 1.0f / sum;
    TOut* row = out + (int64_t(i) * a.n_heads + h) * D + 2 * t4;
#pragma unroll
    for (int dt = 0; dt < D / 8; ++dt) store2(row + dt * 8, o[dt][2 * r] * inv, o[dt][2 * r + 1] * inv);
  }
}

template <class TOut>
cudaError_t launch(TOut* out, const __half* q, const DeviceKV& kv, int n_heads, int T, int pos0, float scale,
                   cudaStream_t stream) {
  if (T < 1 || pos0 < 0 || kv.n_kv_heads < 1 || n_heads % kv.n_kv_heads != 0) return cudaErrorInvalidValue;
  const int q_tiles = ceil_div(T, kBlockQ);
  if (q_tiles > 65535) return cudaErrorInvalidValue;
  const Args a{out, q, kv.k, kv.v, kv.head_stride, n_heads, n_heads / kv.n_kv_heads, T, pos0, scale * kLog2e};
  ADAMAS_DISPATCH_HEAD_DIM(kv.head_dim, D, {
    constexpr int kSmem = smem_bytes<D>();
    static const cudaError_t attr =
        cudaFuncSetAttribute(prefill_kernel<D, TOut>, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmem);
    if (attr != cudaSuccess) return attr;
    prefill_kernel<D, TOut><<<dim3(n_heads, q_tiles), kThreads, kSmem, stream>>>(a);
  })
  return cudaGetLastError();
}

}  // namespace

cudaError_t prefill_attention(__half* out, const __half* q, const DeviceKV& kv, int n_heads, int T, int pos0,
                              float scale, cudaStream_t stream) {
  return launch(out, q, kv, n_heads, T, pos0, scale, stream);
}

cudaError_t prefill_attention(__nv_bfloat16* out, const __half* q, const DeviceKV& kv, int n_heads, int T, int pos0,
                              float scale, cudaStream_t stream) {
  return launch(out, q, kv, n_heads, T, pos0, scale, stream);
}

}  // namespace adamas::cuda
