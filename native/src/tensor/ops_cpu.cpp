#include "tensor/ops_cpu.h"

#include <algorithm>
#include <cmath>
#include <limits>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define ADAMAS_AVX2 1
#endif

namespace adamas::cpu {

// ---------------------------------------------------------------------------------------------
// matmul: register-blocked dot products. A micro-tile of MR rows of x by NR rows of W keeps
// MR*NR vector accumulators in registers (3x4 = 12 of the 16 AVX2 registers); each load of x is
// reused NR times and each load of W MR times.

namespace {

constexpr int kMR = 3;
constexpr int kNR = 4;

#ifdef ADAMAS_AVX2
inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
#endif

template <int MR, int NR>
inline void micro_tile(float* out, int ldo, const float* x, const float* w, int K) {
  float acc_s[MR][NR] = {};
  int k = 0;
#ifdef ADAMAS_AVX2
  __m256 acc[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_setzero_ps();
  for (; k + 8 <= K; k += 8) {
    __m256 a[MR];
    for (int i = 0; i < MR; ++i) a[i] = _mm256_loadu_ps(x + size_t(i) * K + k);
    for (int j = 0; j < NR; ++j) {
      __m256 b = _mm256_loadu_ps(w + size_t(j) * K + k);
      for (int i = 0; i < MR; ++i) acc[i][j] = _mm256_fmadd_ps(a[i], b, acc[i][j]);
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) acc_s[i][j] = hsum(acc[i][j]);
#endif
  for (; k < K; ++k)
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) acc_s[i][j] += x[size_t(i) * K + k] * w[size_t(j) * K + k];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) out[size_t(i) * ldo + j] = acc_s[i][j];
}

template <int MR>
inline void row_strip(float* out, int ldo, const float* x, const float* w, int K, int n0, int n1) {
  int n = n0;
  for (; n + kNR <= n1; n += kNR) micro_tile<MR, kNR>(out + n, ldo, x, w + size_t(n) * K, K);
  for (; n < n1; ++n) micro_tile<MR, 1>(out + n, ldo, x, w + size_t(n) * K, K);
}

// out rows [t0,t1) x columns [n0,n1)
void tile(float* out, int ldo, const float* x, const float* w, int K, int t0, int t1, int n0, int n1) {
  int t = t0;
  for (; t + kMR <= t1; t += kMR) row_strip<kMR>(out + size_t(t) * ldo, ldo, x + size_t(t) * K, w, K, n0, n1);
  for (; t < t1; ++t) row_strip<1>(out + size_t(t) * ldo, ldo, x + size_t(t) * K, w, K, n0, n1);
}

}  // namespace

void matmul_serial(float* out, const float* x, const float* w, int T, int K, int N, int ldo) {
  tile(out, ldo, x, w, K, 0, T, 0, N);
}

void matmul(float* out, const float* x, const float* w, const float* bias, int T, int K, int N) {
  // Tiles of 48 tokens x 32 outputs: a W tile (32 x K floats) stays in L2 while the tokens pass.
  constexpr int kTB = 16 * kMR, kNB = 8 * kNR;
  const int nt = (T + kTB - 1) / kTB, nn = (N + kNB - 1) / kNB;
#pragma omp parallel for schedule(dynamic, 1) collapse(2)
  for (int bn = 0; bn < nn; ++bn)
    for (int bt = 0; bt < nt; ++bt)
      tile(out, N, x, w, K, bt * kTB, std::min(T, (bt + 1) * kTB), bn * kNB, std::min(N, (bn + 1) * kNB));
  if (bias)
    for (int t = 0; t < T; ++t)
      for (int n = 0; n < N; ++n) out[size_t(t) * N + n] += bias[n];
}

// ---------------------------------------------------------------------------------------------

void rmsnorm(float* out, const float* x, const float* weight, int T, int C, float eps) {
  for (int t = 0; t < T; ++t) {
    const float* xt = x + size_t(t) * C;
    float* ot = out + size_t(t) * C;
    float ss = 0.0f;
    for (int c = 0; c < C; ++c) ss += xt[c] * xt[c];
    const float r = 1.0f / std::sqrt(ss / float(C) + eps);
    for (int c = 0; c < C; ++c) ot[c] = weight[c] * (xt[c] * r);
  }
}

float dot(const float* a, const float* b, int n) {
  int i = 0;
  float s = 0.0f;
#ifdef ADAMAS_AVX2
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
  s = hsum(_mm256_add_ps(acc0, acc1));
#endif
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

void axpy(float* y, float a, const float* x, int n) {
  for (int i = 0; i < n; ++i) y[i] += a * x[i];
}

// exp(x) = 2^k * exp(r), k = round(x / ln 2), r = x - k ln 2 in [-ln2/2, ln2/2] (ln 2 split in a
// high and a low part so that r is exact), exp(r) by its Taylor polynomial of degree 6.
namespace {
constexpr float kLog2e = 1.44269504089f, kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
// below kExpMin the result is taken as 0 (it would be denormal); above kExpMax it overflows
constexpr float kExpMin = -86.0f, kExpMax = 88.7f;
constexpr float kC[7] = {1.0f, 1.0f, 0.5f, 1.0f / 6, 1.0f / 24, 1.0f / 120, 1.0f / 720};

inline float exp_scalar(float x) {
  if (x < kExpMin) return 0.0f;
  x = std::min(x, kExpMax);
  const float k = std::nearbyint(x * kLog2e);
  const float r = std::fma(-k, kLn2Lo, std::fma(-k, kLn2Hi, x));
  float p = kC[6];
  for (int i = 5; i >= 0; --i) p = std::fma(p, r, kC[i]);
  return std::ldexp(p, int(k));
}

#ifdef ADAMAS_AVX2
inline __m256 exp_avx2(__m256 x) {
  const __m256 too_small = _mm256_cmp_ps(x, _mm256_set1_ps(kExpMin), _CMP_LT_OQ);
  x = _mm256_min_ps(x, _mm256_set1_ps(kExpMax));
  const __m256 k = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(kLn2Hi), x);
  r = _mm256_fnmadd_ps(k, _mm256_set1_ps(kLn2Lo), r);
  __m256 p = _mm256_set1_ps(kC[6]);
  for (int i = 5; i >= 0; --i) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kC[i]));
  // 2^k by adding k to the exponent field (k >= -126 here, so no denormal results)
  const __m256i e = _mm256_slli_epi32(_mm256_cvtps_epi32(k), 23);
  const __m256 y = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), e));
  return _mm256_andnot_ps(too_small, y);
}
#endif
}  // namespace

float exp_shifted(float* x, int n, float shift) {
  int i = 0;
  float sum = 0.0f;
#ifdef ADAMAS_AVX2
  __m256 acc = _mm256_setzero_ps();
  const __m256 s = _mm256_set1_ps(shift);
  for (; i + 8 <= n; i += 8) {
    const __m256 y = exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(x + i), s));
    _mm256_storeu_ps(x + i, y);
    acc = _mm256_add_ps(acc, y);
  }
  sum = hsum(acc);
#endif
  for (; i < n; ++i) sum += (x[i] = exp_scalar(x[i] - shift));
  return sum;
}

void swiglu(float* h, const float* gate, const float* up, int64_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i0 = 0; i0 < n; i0 += 4096) {
    const int64_t i1 = std::min(n, i0 + 4096);
    int64_t i = i0;
#ifdef ADAMAS_AVX2
    const __m256 one = _mm256_set1_ps(1.0f);
    for (; i + 8 <= i1; i += 8) {
      const __m256 g = _mm256_loadu_ps(gate + i);
      const __m256 e = exp_avx2(_mm256_sub_ps(_mm256_setzero_ps(), g));
      _mm256_storeu_ps(h + i, _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(one, e)), _mm256_loadu_ps(up + i)));
    }
#endif
    for (; i < i1; ++i) h[i] = gate[i] / (1.0f + exp_scalar(-gate[i])) * up[i];
  }
}

double softmax(float* x, int n) {
  float m = -std::numeric_limits<float>::infinity();
  for (int i = 0; i < n; ++i) m = std::max(m, x[i]);
  const double sum = exp_shifted(x, n, m);
  const float inv = float(1.0 / sum);
  for (int i = 0; i < n; ++i) x[i] *= inv;
  return double(m) + std::log(sum);
}

int argmax(const float* x, int n) {
  int best = 0;
  for (int i = 1; i < n; ++i)
    if (x[i] > x[best]) best = i;
  return best;
}

}  // namespace adamas::cpu
