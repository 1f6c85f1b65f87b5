#include "selftest/reference.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>

#include "common/error.h"

namespace adamas::selftest {

namespace {

std::vector<int32_t> range(int from, int to) {
  std::vector<int32_t> out(size_t(std::max(0, to - from)));
  std::iota(out.begin(), out.end(), from);
  return out;
}

// The k best of scores[0, m) by `better` (a strict order in which, between equal scores, the more
// recent index wins), ascending indices.
template <class Better>
std::vector<int32_t> best_k(int m, int k, Better better) {
  std::vector<int32_t> idx = range(0, m);
  std::sort(idx.begin(), idx.end(), better);
  idx.resize(size_t(std::min(k, m)));
  std::sort(idx.begin(), idx.end());
  return idx;
}

// Orders by score descending; NaN as -inf; equal scores: the larger index first.
auto larger_first(const std::vector<float>& s) {
  return [&s](int32_t a, int32_t b) {
    const float x = std::isnan(s[a]) ? -INFINITY : s[a], y = std::isnan(s[b]) ? -INFINITY : s[b];
    return x != y ? x > y : a > b;
  };
}

// Sylvester-Hadamard transform of x[D], butterflies of span 1, 2, 4, ... then one scaling by
// 1/sqrt(D) (the float32 order attention/cpu/hadamard.cpp documents).
std::vector<float> hadamard(const float* x, int D) {
  std::vector<float> y(x, x + D);
  for (int h = 1; h < D; h *= 2)
    for (int i = 0; i < D; i += 2 * h)
      for (int j = i; j < i + h; ++j) {
        const float a = y[j], b = y[j + h];
        y[j] = a + b;
        y[j + h] = a - b;
      }
  const float scale = 1.0f / std::sqrt(float(D));
  for (float& v : y) v *= scale;
  return y;
}

// Per-element bucket codes: the number of thresholds each transformed element exceeds.
std::vector<int> codes_of(const float* x, int D, const AttentionOptions& o) {
  const std::vector<float> y = o.hadamard ? hadamard(x, D) : std::vector<float>(x, x + D);
  std::vector<int> c(static_cast<size_t>(D));
  for (int i = 0; i < D; ++i)
    for (float t : o.thresholds) c[i] += y[i] > t;
  return c;
}

int code_distance(const std::vector<int>& a, const std::vector<int>& b, Distance metric) {
  int d = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const int e = a[i] - b[i];
    d += metric == Distance::L2 ? e * e : std::abs(e);
  }
  return d;
}

// Query heads [h0, h1) that rank together: one head, or the KV head's group with --gqa kv.
struct Ranker {
  int h0, h1, kvh;
};

std::vector<Ranker> rankers(const AttentionOptions& o, int H, int KV) {
  const int group = H / KV;
  std::vector<Ranker> out;
  if (o.gqa == GqaSelection::PerKvHead)
    for (int kvh = 0; kvh < KV; ++kvh) out.push_back({kvh * group, (kvh + 1) * group, kvh});
  else
    for (int h = 0; h < H; ++h) out.push_back({h, h + 1, h / group});
  return out;
}

std::vector<int32_t> quest_list(const AttentionOptions& o, const float* q, const KVView& kv, const Ranker& r, int n) {
  const int P = o.page_size, D = kv.head_dim, cur = (n - 1) / P, k = o.budget / P - 1;
  std::vector<float> score(size_t(cur), 0.0f);
  std::vector<float> mx(static_cast<size_t>(D)), mn(static_cast<size_t>(D));
  for (int p = 0; p < cur; ++p) {
    std::copy(kv.key(r.kvh, p * P), kv.key(r.kvh, p * P) + D, mx.begin());
    std::copy(mx.begin(), mx.end(), mn.begin());
    for (int t = p * P + 1; t < (p + 1) * P; ++t)
      for (int d = 0; d < D; ++d) {
        mx[d] = std::max(mx[d], kv.key(r.kvh, t)[d]);
        mn[d] = std::min(mn[d], kv.key(r.kvh, t)[d]);
      }
    for (int h = r.h0; h < r.h1; ++h) {
      const float* qh = q + size_t(h) * D;
      float u = 0.0f;
      for (int d = 0; d < D; ++d) {
        const float a = qh[d] * mx[d], b = qh[d] * mn[d];
        u += a > b ? a : b;
      }
      score[p] += u;
    }
  }
  std::vector<int32_t> out;
  for (int32_t p : best_k(cur, k, larger_first(score)))
    for (int t = p * P; t < (p + 1) * P; ++t) out.push_back(t);
  for (int t = cur * P; t < n; ++t) out.push_back(t);
  return out;
}

std::vector<int32_t> oracle_list(const AttentionOptions& o, const float* q, const KVView& kv, const Ranker& r, int n) {
  const int D = kv.head_dim, past = n - 1;
  std::vector<float> score(static_cast<size_t>(past));
  for (int t = 0; t < past; ++t)
    for (int h = r.h0; h < r.h1; ++h) {
      float acc = 0.0f;
      for (int d = 0; d < D; ++d) acc = std::fma(q[size_t(h) * D + d], kv.key(r.kvh, t)[d], acc);
      score[t] = h == r.h0 ? acc : score[t] + acc;
    }
  std::vector<int32_t> out = best_k(past, o.budget - 1, larger_first(score));
  out.push_back(n - 1);
  return out;
}

// key_codes[t]: the codes of the ranker's KV head at the past positions.
std::vector<int32_t> adamas_list(const AttentionOptions& o, const float* q, const std::vector<std::vector<int>>& key_codes,
                                 int D, const Ranker& r, int n) {
  const int past = n - 1;
  std::vector<std::vector<int>> qc;
  for (int h = r.h0; h < r.h1; ++h) qc.push_back(codes_of(q + size_t(h) * D, D, o));
  std::vector<int> dist(size_t(past), 0);
  for (int t = 0; t < past; ++t)
    for (const std::vector<int>& c : qc) dist[t] += code_distance(c, key_codes[size_t(t)], o.distance);
  std::vector<int32_t> out = best_k(past, o.budget - 1, [&dist](int32_t a, int32_t b) {
    return dist[a] != dist[b] ? dist[a] < dist[b] : a > b;
  });
  out.push_back(n - 1);
  return out;
}

}  // namespace

Selection reference_selection(const AttentionOptions& o, const float* q, const KVView& kv, int H, int n) {
  Selection sel;
  sel.heads.assign(size_t(H), {});
  if (o.method == Method::Full || n <= o.budget) {
    for (auto& l : sel.heads) l = range(0, n);
    return sel;
  }
  if (o.method == Method::Streaming) {
    const int sink = std::min(o.sink, o.budget - 1);  // the window always holds the current token
    std::vector<int32_t> l = range(0, sink), recent = range(n - (o.budget - sink), n);
    l.insert(l.end(), recent.begin(), recent.end());
    for (auto& h : sel.heads) h = l;
    return sel;
  }
  if (o.method == Method::Adamas && (o.auto_thresholds || o.granularity != Granularity::Token))
    throw InvalidArgument("selftest reference: Adamas with auto thresholds or page granularity is not covered");
  std::vector<std::vector<std::vector<int>>> key_codes(size_t(kv.n_kv_heads));  // adamas: [kvh][t][D]
  if (o.method == Method::Adamas)
    for (int kvh = 0; kvh < kv.n_kv_heads; ++kvh)
      for (int t = 0; t < n - 1; ++t) key_codes[size_t(kvh)].push_back(codes_of(kv.key(kvh, t), kv.head_dim, o));
  for (const Ranker& r : rankers(o, H, kv.n_kv_heads)) {
    const std::vector<int32_t> l = o.method == Method::Quest    ? quest_list(o, q, kv, r, n)
                                   : o.method == Method::Oracle ? oracle_list(o, q, kv, r, n)
                                                                : adamas_list(o, q, key_codes[size_t(r.kvh)], kv.head_dim, r, n);
    for (int h = r.h0; h < r.h1; ++h) sel.heads[h] = l;
  }
  return sel;
}

namespace {

// Logits scale * q . k_t of head h over `positions`, in double.
std::vector<double> logits(const float* qh, const KVView& kv, int kvh, const std::vector<int32_t>& positions) {
  const int D = kv.head_dim;
  const double scale = 1.0 / std::sqrt(double(D));
  std::vector<double> s(positions.size());
  for (size_t i = 0; i < positions.size(); ++i) {
    double acc = 0;
    for (int d = 0; d < D; ++d) acc += double(qh[d]) * double(kv.key(kvh, positions[i])[d]);
    s[i] = scale * acc;
  }
  return s;
}

// exp(s - max(s)) and their sum.
double softmax_weights(std::vector<double>& s) {
  const double m = s.empty() ? 0 : *std::max_element(s.begin(), s.end());
  double sum = 0;
  for (double& x : s) sum += (x = std::exp(x - m));
  return sum;
}

}  // namespace

std::vector<double> reference_attention(const float* q, const KVView& kv, int H, const Selection& sel) {
  const int D = kv.head_dim, group = H / kv.n_kv_heads;
  std::vector<double> out(size_t(H) * D, 0.0);
  for (int h = 0; h < H; ++h) {
    const std::vector<int32_t>& pos = sel.heads[h];
    std::vector<double> w = logits(q + size_t(h) * D, kv, h / group, pos);
    const double sum = softmax_weights(w);
    for (size_t i = 0; i < pos.size(); ++i)
      for (int d = 0; d < D; ++d) out[size_t(h) * D + d] += w[i] / sum * double(kv.value(h / group, pos[i])[d]);
  }
  return out;
}

std::vector<double> reference_mass(const float* q, const KVView& kv, int H, int n, const Selection& sel) {
  const int D = kv.head_dim, group = H / kv.n_kv_heads;
  std::vector<double> mass(static_cast<size_t>(H));
  const std::vector<int32_t> all = range(0, n);
  for (int h = 0; h < H; ++h) {
    std::vector<double> w = logits(q + size_t(h) * D, kv, h / group, all);
    const double sum = softmax_weights(w);
    double on = 0;
    for (int32_t t : sel.heads[h]) on += w[size_t(t)];
    mass[h] = on / sum;
  }
  return mass;
}

}  // namespace adamas::selftest
