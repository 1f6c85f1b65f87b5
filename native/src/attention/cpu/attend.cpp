#include "attention/cpu/attend.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "tensor/ops_cpu.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define ADAMAS_AVX2 1
#endif

namespace adamas::cpu {

void attend_decode(float* out, const float* q, const KVView& kv, int kvh, const int32_t* idx, int n,
                   float scale, float* p) {
  const int D = kv.head_dim;
  for (int j = 0; j < n; ++j) p[j] = scale * dot(q, kv.key(kvh, idx ? idx[j] : j), D);
  softmax(p, n);
  std::fill(out, out + D, 0.0f);
  for (int j = 0; j < n; ++j) axpy(out, p[j], kv.value(kvh, idx ? idx[j] : j), D);
}

void attend_decode_dense(float* out, const float* q, const KVView& kv, int n_heads, int n, float scale) {
  constexpr int kChunk = 256;
  const int D = kv.head_dim, KV = kv.n_kv_heads, group = n_heads / KV;
  const int n_chunks = (n + kChunk - 1) / kChunk;
  // partial results per (kv head, chunk): for each query head of the group max, sum, acc[D]
  std::vector<float> part_max(size_t(KV) * n_chunks * group), part_sum(part_max.size()),
      part_acc(part_max.size() * D);

#pragma omp parallel
  {
    std::vector<float> s(size_t(group) * kChunk);
#pragma omp for schedule(dynamic, 1) collapse(2)
    for (int kvh = 0; kvh < KV; ++kvh)
      for (int c = 0; c < n_chunks; ++c) {
        const int p0 = c * kChunk, m = std::min(kChunk, n - p0);
        const float* qg = q + size_t(kvh) * group * D;
        for (int j = 0; j < m; ++j) {
          const float* k = kv.key(kvh, p0 + j);
          for (int g = 0; g < group; ++g) s[size_t(g) * kChunk + j] = scale * dot(qg + size_t(g) * D, k, D);
        }
        const size_t slot = (size_t(kvh) * n_chunks + c) * group;
        for (int g = 0; g < group; ++g) {
          float* sg = &s[size_t(g) * kChunk];
          float mx = -std::numeric_limits<float>::infinity();
          for (int j = 0; j < m; ++j) mx = std::max(mx, sg[j]);
          const float sum = exp_shifted(sg, m, mx);
          part_max[slot + g] = mx;
          part_sum[slot + g] = sum;
          std::fill_n(&part_acc[(slot + g) * D], D, 0.0f);
        }
        for (int j = 0; j < m; ++j) {
          const float* v = kv.value(kvh, p0 + j);
          for (int g = 0; g < group; ++g) axpy(&part_acc[(slot + g) * D], s[size_t(g) * kChunk + j], v, D);
        }
      }
  }

  for (int h = 0; h < n_heads; ++h) {
    const int kvh = h / group, g = h % group;
    float mx = -std::numeric_limits<float>::infinity();
    for (int c = 0; c < n_chunks; ++c) mx = std::max(mx, part_max[(size_t(kvh) * n_chunks + c) * group + g]);
    float* o = out + size_t(h) * D;
    std::fill_n(o, D, 0.0f);
    float sum = 0.0f;
    for (int c = 0; c < n_chunks; ++c) {
      const size_t slot = (size_t(kvh) * n_chunks + c) * group + g;
      const float w = std::exp(part_max[slot] - mx);
      sum += w * part_sum[slot];
      axpy(o, w, &part_acc[slot * D], D);
    }
    for (int d = 0; d < D; ++d) o[d] /= sum;
  }
}

void attention_probs(float* p, const float* q, const KVView& kv, int kvh, int n, float scale) {
  for (int j = 0; j < n; ++j) p[j] = scale * dot(q, kv.key(kvh, j), kv.head_dim);
  softmax(p, n);
}

// Prefill attention, flash-style: per (head, block of queries), stream over key blocks keeping a
// running max and sum per query, so no T x T score matrix is ever stored. Two small matrix
// products per key block, both as register-blocked outer products:
//   S[Bq][Bk] = Q[Bq][D] . K^T  (K block transposed to Kt[D][Bk] first)
//   O[Bq][D] += P[Bq][Bk] . V[Bk][D]
// and the exponentials as one vectorisable loop a row.

namespace {

constexpr int kBq = 16, kBk = 64;

// s[R][kBk] = qs[R][D] . kt[D][kBk]
template <int R>
void scores_rows(float* s, const float* qs, const float* kt, int D) {
#ifdef ADAMAS_AVX2
  for (int jc = 0; jc < kBk; jc += 16) {
    __m256 acc[R][2];
    for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (int d = 0; d < D; ++d) {
      const __m256 b0 = _mm256_loadu_ps(kt + size_t(d) * kBk + jc);
      const __m256 b1 = _mm256_loadu_ps(kt + size_t(d) * kBk + jc + 8);
      for (int r = 0; r < R; ++r) {
        const __m256 a = _mm256_broadcast_ss(qs + size_t(r) * D + d);
        acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);
      }
    }
    for (int r = 0; r < R; ++r) {
      _mm256_storeu_ps(s + size_t(r) * kBk + jc, acc[r][0]);
      _mm256_storeu_ps(s + size_t(r) * kBk + jc + 8, acc[r][1]);
    }
  }
#else
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < kBk; ++j) {
      float acc = 0.0f;
      for (int d = 0; d < D; ++d) acc += qs[size_t(r) * D + d] * kt[size_t(d) * kBk + j];
      s[size_t(r) * kBk + j] = acc;
    }
#endif
}

// o[R][D] += p[R][kBk] (first nk columns) . V rows v[nk][D] (row stride D)
template <int R>
void accumulate_rows(float* o, const float* p, const float* v, int nk, int D) {
#ifdef ADAMAS_AVX2
  if (D % 32 == 0) {
    for (int dc = 0; dc < D; dc += 32) {
      __m256 acc[R][4];
      for (int r = 0; r < R; ++r)
        for (int k = 0; k < 4; ++k) acc[r][k] = _mm256_loadu_ps(o + size_t(r) * D + dc + 8 * k);
      for (int j = 0; j < nk; ++j) {
        const float* vj = v + size_t(j) * D + dc;
        const __m256 v0 = _mm256_loadu_ps(vj), v1 = _mm256_loadu_ps(vj + 8), v2 = _mm256_loadu_ps(vj + 16),
                     v3 = _mm256_loadu_ps(vj + 24);
        for (int r = 0; r < R; ++r) {
          const __m256 a = _mm256_broadcast_ss(p + size_t(r) * kBk + j);
          acc[r][0] = _mm256_fmadd_ps(a, v0, acc[r][0]);
          acc[r][1] = _mm256_fmadd_ps(a, v1, acc[r][1]);
          acc[r][2] = _mm256_fmadd_ps(a, v2, acc[r][2]);
          acc[r][3] = _mm256_fmadd_ps(a, v3, acc[r][3]);
        }
      }
      for (int r = 0; r < R; ++r)
        for (int k = 0; k < 4; ++k) _mm256_storeu_ps(o + size_t(r) * D + dc + 8 * k, acc[r][k]);
    }
    return;
  }
#endif
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < nk; ++j) axpy(o + size_t(r) * D, p[size_t(r) * kBk + j], v + size_t(j) * D, D);
}

}  // namespace

void attend_prefill(float* out, const float* q, const KVView& kv, int n_heads, int T, int pos0, float scale) {
  const int D = kv.head_dim, group = n_heads / kv.n_kv_heads;
  const int q_blocks = (T + kBq - 1) / kBq;
  const int64_t row = int64_t(n_heads) * D;
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();

#pragma omp parallel
  {
    std::vector<float> qs(kBq * D), ob(kBq * D), kt(size_t(D) * kBk), s(kBq * kBk), m(kBq), l(kBq);
#pragma omp for schedule(dynamic, 1) collapse(2)
    for (int h = 0; h < n_heads; ++h)
      for (int b = q_blocks - 1; b >= 0; --b) {  // longest blocks first: better balance
        const int kvh = h / group, t0 = b * kBq, nq = std::min(kBq, T - t0);
        for (int i = 0; i < nq; ++i)
          for (int d = 0; d < D; ++d) qs[size_t(i) * D + d] = q[(t0 + i) * row + h * D + d] * scale;
        std::fill(ob.begin(), ob.end(), 0.0f);
        std::fill(m.begin(), m.end(), kNegInf);
        std::fill(l.begin(), l.end(), 0.0f);
        const int n_keys = pos0 + t0 + nq;  // the last query of the block sees this many keys
        for (int k0 = 0; k0 < n_keys; k0 += kBk) {
          const int nk = std::min(kBk, n_keys - k0);
          for (int j = 0; j < kBk; ++j)
            for (int d = 0; d < D; ++d) kt[size_t(d) * kBk + j] = j < nk ? kv.key(kvh, k0 + j)[d] : 0.0f;
          int i = 0;
          for (; i + 4 <= nq; i += 4) scores_rows<4>(&s[size_t(i) * kBk], &qs[size_t(i) * D], kt.data(), D);
          for (; i < nq; ++i) scores_rows<1>(&s[size_t(i) * kBk], &qs[size_t(i) * D], kt.data(), D);

          for (i = 0; i < nq; ++i) {
            float* si = &s[size_t(i) * kBk];
            const int visible = std::max(0, std::min(nk, pos0 + t0 + i + 1 - k0));  // causal limit
            for (int j = visible; j < kBk; ++j) si[j] = kNegInf;
            float bm = m[i];
            for (int j = 0; j < visible; ++j) bm = std::max(bm, si[j]);
            if (visible == 0) continue;  // the row's probabilities below are all 0
            const float correction = std::exp(m[i] - bm);
            const float sum = exp_shifted(si, kBk, bm);
            if (correction != 1.0f)
              for (int d = 0; d < D; ++d) ob[size_t(i) * D + d] *= correction;
            l[i] = l[i] * correction + sum;
            m[i] = bm;
          }
          for (i = 0; i < nq; ++i)  // rows whose keys are all in the future get zeros
            if (pos0 + t0 + i + 1 - k0 <= 0) std::fill_n(&s[size_t(i) * kBk], kBk, 0.0f);
          const float* v = kv.value(kvh, k0);
          for (i = 0; i + 2 <= nq; i += 2) accumulate_rows<2>(&ob[size_t(i) * D], &s[size_t(i) * kBk], v, nk, D);
          for (; i < nq; ++i) accumulate_rows<1>(&ob[size_t(i) * D], &s[size_t(i) * kBk], v, nk, D);
        }
        for (int i = 0; i < nq; ++i) {
          const float inv = 1.0f / l[i];
          float* dst = out + (t0 + i) * row + h * D;
          for (int d = 0; d < D; ++d) dst[d] = ob[size_t(i) * D + d] * inv;
        }
      }
  }
}

}  // namespace adamas::cpu
