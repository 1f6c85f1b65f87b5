#include <algorithm>

#include "model/cuda/device_math.cuh"
#include "model/cuda/ops.h"

namespace adamas::cuda {

namespace {

constexpr int kThreads = 256;

// Blocks of a grid-stride loop over n elements: enough to fill the GPU, not more.
unsigned elementwise_blocks(int64_t n) {
  return unsigned(std::clamp<int64_t>((n + kThreads - 1) / kThreads, 1, 8192));
}

template <class T>
__global__ void embed_kernel(float* x, const T* table, const int32_t* tokens, int C) {
  const T* row = table + int64_t(tokens[blockIdx.x]) * C;
  float* out = x + int64_t(blockIdx.x) * C;
  for (int c = threadIdx.x; c < C; c += blockDim.x) out[c] = to_float(row[c]);
}

template <class T>
__global__ void rmsnorm_kernel(T* out, const float* x, const float* w, int C, float eps) {
  const float* xr = x + int64_t(blockIdx.x) * C;
  T* o = out + int64_t(blockIdx.x) * C;
  float ss = 0.0f;
  for (int c = threadIdx.x; c < C; c += blockDim.x) ss += xr[c] * xr[c];
  ss = block_reduce<false>(ss);
  const float r = 1.0f / sqrtf(ss / float(C) + eps);
  for (int c = threadIdx.x; c < C; c += blockDim.x) o[c] = from_float<T>(w[c] * (xr[c] * r));
}

// One thread a rotated pair (q heads, then k heads) or a value element; blockIdx.y the token.
template <class TQ>
__global__ void rope_qkv_kernel(const QkvArgs a) {
  const int t = blockIdx.y, half = a.D / 2;
  const int q_pairs = a.H * half, k_pairs = a.KV * half;
  const int e = blockIdx.x * blockDim.x + threadIdx.x;
  if (e >= q_pairs + k_pairs + a.KV * a.D) return;
  const int pos = (a.pos_dev ? *a.pos_dev : 0) + a.pos_offset + t;
  const float* row = a.qkv + int64_t(t) * (a.H + 2 * a.KV) * a.D;
  if (e < q_pairs + k_pairs) {
    const bool is_q = e < q_pairs;
    const int p = is_q ? e : e - q_pairs, head = p / half, i = p % half;
    const int col = (is_q ? 0 : a.H * a.D) + head * a.D + i;
    float x0 = row[col], x1 = row[col + half];
    if (a.bias) {
      x0 += a.bias[col];
      x1 += a.bias[col + half];
    }
    const float2 cs = a.rope[int64_t(pos) * half + i];
    const float y0 = x0 * cs.x - x1 * cs.y, y1 = x1 * cs.x + x0 * cs.y;
    if (is_q) {
      TQ* q = static_cast<TQ*>(a.q) + (int64_t(t) * a.H + head) * a.D;
      q[i] = from_float<TQ>(y0);
      q[i + half] = from_float<TQ>(y1);
    } else {
      __half* k = a.k_cache + head * a.head_stride + int64_t(pos) * a.D;
      k[i] = __float2half_rn(y0);
      k[i + half] = __float2half_rn(y1);
    }
  } else {
    const int v = e - q_pairs - k_pairs, head = v / a.D, d = v % a.D;
    const int col = (a.H + a.KV) * a.D + v;
    const float x = a.bias ? row[col] + a.bias[col] : row[col];
    a.v_cache[head * a.head_stride + int64_t(pos) * a.D + d] = __float2half_rn(x);
  }
}

template <class T>
__global__ void swiglu_kernel(T* h, const float* gate_up, int64_t n, int F) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t t = i / F, f = i % F;
    const float g = gate_up[t * 2 * F + f], u = gate_up[t * 2 * F + F + f];
    h[i] = from_float<T>(g / (1.0f + expf(-g)) * u);
  }
}

template <class T>
__global__ void convert_kernel(T* out, const float* x, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = from_float<T>(x[i]);
}

__global__ void advance_kernel(int32_t* pos) { *pos += 1; }

}  // namespace

cudaError_t embed_tokens(float* x, const void* table, DType type, const int32_t* tokens, int T, int C,
                         cudaStream_t stream) {
  if (T < 1 || C < 1) return cudaErrorInvalidValue;
  ADAMAS_DISPATCH_DTYPE(type, E, {
    embed_kernel<E><<<T, kThreads, 0, stream>>>(x, static_cast<const E*>(table), tokens, C);
  })
  return cudaGetLastError();
}

cudaError_t rmsnorm(void* out, DType out_type, const float* x, const float* w, int T, int C, float eps,
                    cudaStream_t stream) {
  if (T < 1 || C < 1) return cudaErrorInvalidValue;
  const int threads = C >= 2048 ? 1024 : kThreads;
  ADAMAS_DISPATCH_DTYPE(out_type, O, { rmsnorm_kernel<O><<<T, threads, 0, stream>>>(static_cast<O*>(out), x, w, C, eps); })
  return cudaGetLastError();
}

cudaError_t rope_qkv(const QkvArgs& a, cudaStream_t stream) {
  if (a.T < 1 || a.H < 1 || a.KV < 1 || a.D < 2 || a.D % 2 || !a.qkv || !a.rope || !a.q || !a.k_cache || !a.v_cache ||
      (a.q_type != DType::F32 && a.q_type != DType::F16))
    return cudaErrorInvalidValue;
  const int items = (a.H + a.KV) * (a.D / 2) + a.KV * a.D;
  const dim3 grid((items + kThreads - 1) / kThreads, a.T);
  if (a.q_type == DType::F32)
    rope_qkv_kernel<float><<<grid, kThreads, 0, stream>>>(a);
  else
    rope_qkv_kernel<__half><<<grid, kThreads, 0, stream>>>(a);
  return cudaGetLastError();
}

cudaError_t swiglu(void* h, DType type, const float* gate_up, int T, int F, cudaStream_t stream) {
  if (T < 1 || F < 1) return cudaErrorInvalidValue;
  const int64_t n = int64_t(T) * F;
  ADAMAS_DISPATCH_DTYPE(type, H, {
    swiglu_kernel<H><<<elementwise_blocks(n), kThreads, 0, stream>>>(static_cast<H*>(h), gate_up, n, F);
  })
  return cudaGetLastError();
}

cudaError_t convert_from_f32(void* out, DType type, const float* x, int64_t n, cudaStream_t stream) {
  if (n < 1) return cudaErrorInvalidValue;
  ADAMAS_DISPATCH_DTYPE(type, O, {
    convert_kernel<O><<<elementwise_blocks(n), kThreads, 0, stream>>>(static_cast<O*>(out), x, n);
  })
  return cudaGetLastError();
}

cudaError_t advance_position(int32_t* pos, cudaStream_t stream) {
  advance_kernel<<<1, 1, 0, stream>>>(pos);
  return cudaGetLastError();
}

}  // namespace adamas::cuda
