// Tests of the CPU layer attention of every method (streaming, quest, adamas) through the
// LayerAttention interface, on a synthetic KV cache: each selection must equal a brute-force
// reference written here from the definitions (per-element codes, unpacked distances, full
// sorts), for many shapes and knobs; attention over given lists, the recall instrumentation and
// the phase bytes against plain loops.
// Set ADAMAS_TEST_TIMING=1 to also print the cost of estimate + select at n = 4096.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "attention/cpu/codes.h"
#include "attention/cpu/hadamard.h"
#include "attention/layer.h"
#include "check.h"
#include "sort_reference.h"

using namespace adamas;

namespace {

// Keys of n_kv heads at up to `cap` positions, laid out like the engine's KV cache.
struct FakeCache {
  int KV, D, cap;
  std::vector<float> k;
  FakeCache(int n_kv, int d, int capacity) : KV(n_kv), D(d), cap(capacity), k(size_t(n_kv) * capacity * d) {}
  LayerKV kv() const { return LayerKV{k.data(), k.data(), int64_t(cap) * D, KV, D}; }
  float* key(int kvh, int t) { return &k[(size_t(kvh) * cap + t) * D]; }
};

void fill_normal(std::mt19937& rng, float* x, size_t n, float sd) {
  std::normal_distribution<float> dist(0.0f, sd);
  for (size_t i = 0; i < n; ++i) x[i] = dist(rng);
}

AttentionOptions options(Method m, int budget) {
  AttentionOptions o;
  o.method = m;
  o.budget = budget;
  return o;
}

// Positions of the chosen pages (ascending page indices), then the current page up to n.
std::vector<int32_t> expand_pages(std::vector<int32_t> pages, int P, int n) {
  std::sort(pages.begin(), pages.end());
  std::vector<int32_t> out;
  for (int p : pages)
    for (int t = p * P; t < (p + 1) * P; ++t) out.push_back(t);
  for (int t = (n - 1) / P * P; t < n; ++t) out.push_back(t);
  return out;
}


// ---- references ---------------------------------------------------------------------------------

std::vector<int32_t> ref_streaming(const AttentionOptions& o, int n) {
  const int sink = std::min(o.sink, o.budget - 1);
  std::vector<int32_t> out;
  for (int t = 0; t < n; ++t)
    if (t < sink || t >= n - (o.budget - sink)) out.push_back(t);
  return out;
}

// [heads] of selections.
std::vector<std::vector<int32_t>> ref_quest(const AttentionOptions& o, const float* q, const FakeCache& c, int H,
                                            int n) {
  const int P = o.page_size, cur = (n - 1) / P, k = o.budget / P - 1, group = H / c.KV, D = c.D;
  const bool per_kv = o.gqa == GqaSelection::PerKvHead;
  std::vector<std::vector<int32_t>> sel(static_cast<size_t>(H));
  for (int h = 0; h < H; ++h) {
    const int kvh = h / group;
    const int h0 = per_kv ? kvh * group : h, h1 = per_kv ? h0 + group : h + 1;
    std::vector<float> score(static_cast<size_t>(cur), 0.0f);
    for (int g = h0; g < h1; ++g)
      for (int p = 0; p < cur; ++p) {
        float u = 0.0f;
        for (int d = 0; d < D; ++d) {
          float mx = -INFINITY, mn = INFINITY;
          for (int t = p * P; t < (p + 1) * P; ++t) {
            mx = std::max(mx, c.k[(size_t(kvh) * c.cap + t) * D + d]);
            mn = std::min(mn, c.k[(size_t(kvh) * c.cap + t) * D + d]);
          }
          const float qd = q[size_t(g) * D + d];
          u += std::max(qd * mx, qd * mn);
        }
        score[p] += u;
      }
    sel[h] = expand_pages(
        adamas::test::best_k(cur, k, [&](int a, int b) { return score[a] > score[b] || (score[a] == score[b] && a > b); }), P, n);
  }
  return sel;
}

// Codes of x (per element) under thresholds t, after the transform if asked.
std::vector<int> ref_codes(const float* x, int D, bool hadamard, const std::vector<float>& t) {
  std::vector<float> y(x, x + D);
  if (hadamard) cpu::hadamard_transform(y.data(), D);
  std::vector<int> c(static_cast<size_t>(D));
  for (int i = 0; i < D; ++i) {
    c[i] = 0;
    for (float tj : t) c[i] += y[i] > tj ? 1 : 0;
  }
  return c;
}

// thresholds[kv_head]: the options' own, or fitted to the keys [0, fit_len).
std::vector<std::vector<float>> ref_thresholds(const AttentionOptions& o, const FakeCache& c, int fit_len) {
  std::vector<std::vector<float>> t(size_t(c.KV), o.thresholds);
  if (!o.auto_thresholds) return t;
  for (int kvh = 0; kvh < c.KV; ++kvh) {
    std::vector<float> all;
    for (int pos = 0; pos < fit_len; ++pos) {
      std::vector<float> y(&c.k[(size_t(kvh) * c.cap + pos) * c.D], &c.k[(size_t(kvh) * c.cap + pos + 1) * c.D]);
      if (o.hadamard) cpu::hadamard_transform(y.data(), c.D);
      all.insert(all.end(), y.begin(), y.end());
    }
    t[kvh] = cpu::quantile_thresholds(all.data(), all.size(), o.bits);
  }
  return t;
}

std::vector<std::vector<int32_t>> ref_adamas(const AttentionOptions& o, const std::vector<std::vector<float>>& thr,
                                             const float* q, const FakeCache& c, int H, int n) {
  const int group = H / c.KV, D = c.D, B = o.budget, P = o.page_size;
  const bool per_kv = o.gqa == GqaSelection::PerKvHead;
  // dist[h][t] for the past tokens t < n - 1
  std::vector<std::vector<int>> dist(static_cast<size_t>(H), std::vector<int>(size_t(n - 1)));
  for (int h = 0; h < H; ++h) {
    const int kvh = h / group;
    const std::vector<int> qc = ref_codes(q + size_t(h) * D, D, o.hadamard, thr[kvh]);
    for (int t = 0; t < n - 1; ++t) {
      const std::vector<int> kc = ref_codes(&c.k[(size_t(kvh) * c.cap + t) * D], D, o.hadamard, thr[kvh]);
      int d = 0;
      for (int i = 0; i < D; ++i) {
        const int diff = qc[i] - kc[i];
        d += o.distance == Distance::L2 ? diff * diff : std::abs(diff);
      }
      dist[h][t] = d;
    }
  }
  std::vector<std::vector<int32_t>> sel(static_cast<size_t>(H));
  for (int h = 0; h < H; ++h) {
    const int h0 = per_kv ? h / group * group : h, h1 = per_kv ? h0 + group : h + 1;
    if (o.granularity == Granularity::Token) {
      std::vector<int> d(size_t(n - 1), 0);
      for (int g = h0; g < h1; ++g)
        for (int t = 0; t < n - 1; ++t) d[t] += dist[g][t];
      sel[h] = adamas::test::best_k(n - 1, B - 1, [&](int a, int b) { return d[a] < d[b] || (d[a] == d[b] && a > b); });
      sel[h].push_back(n - 1);
    } else {
      const int cur = (n - 1) / P;
      std::vector<int> s(static_cast<size_t>(cur), 0);
      for (int g = h0; g < h1; ++g)
        for (int p = 0; p < cur; ++p) s[p] += *std::min_element(&dist[g][size_t(p) * P], &dist[g][size_t(p + 1) * P]);
      auto better = [&](int a, int b) { return s[a] < s[b] || (s[a] == s[b] && a > b); };
      sel[h] = expand_pages(adamas::test::best_k(cur, B / P - 1, better), P, n);
    }
  }
  return sel;
}

// The oracle's score of t for head g, as defined: an fp32 fma chain over d in order.
float ref_oracle_score(const float* q, const FakeCache& c, int kvh, int t) {
  float s = 0.0f;
  for (int d = 0; d < c.D; ++d) s = std::fma(q[d], c.k[(size_t(kvh) * c.cap + t) * c.D + d], s);
  return s;
}

std::vector<std::vector<int32_t>> ref_oracle(const AttentionOptions& o, const float* q, const FakeCache& c, int H,
                                             int n) {
  const int group = H / c.KV, B = o.budget;
  const bool per_kv = o.gqa == GqaSelection::PerKvHead;
  std::vector<std::vector<int32_t>> sel(static_cast<size_t>(H));
  for (int h = 0; h < H; ++h) {
    const int kvh = h / group, h0 = per_kv ? kvh * group : h, h1 = per_kv ? h0 + group : h + 1;
    std::vector<float> s(static_cast<size_t>(n - 1));
    for (int t = 0; t < n - 1; ++t) {
      s[t] = ref_oracle_score(q + size_t(h0) * c.D, c, kvh, t);
      for (int g = h0 + 1; g < h1; ++g) s[t] += ref_oracle_score(q + size_t(g) * c.D, c, kvh, t);
    }
    sel[h] = adamas::test::best_k(n - 1, B - 1, [&](int a, int b) { return s[a] > s[b] || (s[a] == s[b] && a > b); });
    sel[h].push_back(n - 1);
  }
  return sel;
}

// ---- driving a layer ----------------------------------------------------------------------------

std::unique_ptr<LayerAttention> cpu_layer(const AttentionOptions& o, int H, int KV, int D) {
  return make_layer_attention(Backend::Cpu, o, H, KV, D, 0);
}

// The lists of a sparse step at length n: estimate, select, selection.
Selection select_at(LayerAttention& layer, const float* q, const LayerKV& kv, int n) {
  layer.estimate(q, kv, n);
  layer.select(n);
  return layer.selection(n);
}

bool valid_selection(const std::vector<int32_t>& s, int n) {
  if (s.empty() || s.back() != n - 1) return false;
  for (size_t i = 0; i < s.size(); ++i)
    if (s[i] < 0 || s[i] >= n || (i > 0 && s[i] <= s[i - 1])) return false;
  return true;
}

struct Scenario {
  AttentionOptions opts;
  int H = 4, KV = 2, D = 64;
  int prefill = 50;  // tokens appended in chunks before prefill_done (0: none, all decoded)
  int steps = 6;     // decode steps, each appending one token
  float key_sd = 8.0f;
  int distinct_keys = 0;  // > 0: keys drawn from this many vectors (many equal distances)
};

// Appends the prefill in random chunks, then decodes, comparing every selection with the
// reference. Returns the number of selections compared.
template <class Ref>
int run_scenario(Scenario sc, uint32_t seed, Ref ref, const char* file, int line) {
  std::mt19937 rng(seed);
  validate(sc.opts, sc.D, 4);
  const int total = sc.prefill + sc.steps;
  FakeCache cache(sc.KV, sc.D, total + 3);
  if (sc.distinct_keys > 0) {
    std::vector<float> base(size_t(sc.distinct_keys) * sc.D);
    fill_normal(rng, base.data(), base.size(), sc.key_sd);
    std::uniform_int_distribution<int> pick(0, sc.distinct_keys - 1);
    for (int kvh = 0; kvh < sc.KV; ++kvh)
      for (int t = 0; t < total; ++t) std::copy_n(&base[size_t(pick(rng)) * sc.D], sc.D, cache.key(kvh, t));
  } else {
    fill_normal(rng, cache.k.data(), cache.k.size(), sc.key_sd);
  }
  std::unique_ptr<LayerAttention> s = cpu_layer(sc.opts, sc.H, sc.KV, sc.D);
  std::uniform_int_distribution<int> chunk(1, 23);
  for (int pos = 0; pos < sc.prefill;) {
    const int c = std::min(chunk(rng), sc.prefill - pos);
    s->append(cache.kv(), pos, c);
    pos += c;
  }
  if (sc.prefill > 0) s->prefill_done(cache.kv());
  int fit_len = sc.prefill, compared = 0;
  std::vector<float> q(size_t(sc.H) * sc.D);
  for (int n = sc.prefill + 1; n <= total; ++n) {
    s->append(cache.kv(), n - 1, 1);
    if (!s->sparse(n)) continue;
    if (fit_len == 0) fit_len = n;  // no prefill: auto thresholds are fitted at the first sparse step
    fill_normal(rng, q.data(), q.size(), sc.key_sd);
    const Selection sel = select_at(*s, q.data(), cache.kv(), n);
    const std::vector<std::vector<int32_t>> want = ref(sc.opts, q.data(), cache, sc.H, n, fit_len);
    bool ok = sel.heads.size() == size_t(sc.H);
    for (int h = 0; ok && h < sc.H; ++h) ok = sel.heads[h] == want[h] && valid_selection(sel.heads[h], n);
    if (!ok) {
      adamas::test::fail(file, line,
                         std::string(method_name(sc.opts.method)) + " selection differs from the reference (seed " +
                             std::to_string(seed) + ", n " + std::to_string(n) + ", H " + std::to_string(sc.H) +
                             ", KV " + std::to_string(sc.KV) + ", D " + std::to_string(sc.D) + ", B " +
                             std::to_string(sc.opts.budget) + ", bits " + std::to_string(sc.opts.bits) + ")");
      return compared;
    }
    ++compared;
  }
  return compared;
}

auto quest_ref = [](const AttentionOptions& o, const float* q, const FakeCache& c, int H, int n, int) {
  return ref_quest(o, q, c, H, n);
};
auto adamas_ref = [](const AttentionOptions& o, const float* q, const FakeCache& c, int H, int n, int fit_len) {
  return ref_adamas(o, ref_thresholds(o, c, fit_len), q, c, H, n);
};
auto oracle_ref = [](const AttentionOptions& o, const float* q, const FakeCache& c, int H, int n, int) {
  return ref_oracle(o, q, c, H, n);
};
auto streaming_ref = [](const AttentionOptions& o, const float*, const FakeCache&, int H, int n, int) {
  return std::vector<std::vector<int32_t>>(size_t(H), ref_streaming(o, n));
};

}  // namespace

// ---- streaming ----------------------------------------------------------------------------------

TEST(cpu_layer_streaming_sink_plus_recent) {
  for (int B : {1, 2, 3, 4, 5, 9, 32})
    for (int sink : {0, 1, 4, 10}) {
      Scenario sc;
      sc.opts = options(Method::Streaming, B);
      sc.opts.sink = sink;
      sc.H = 6;
      sc.KV = 3;
      sc.prefill = 3;
      sc.steps = 60;
      CHECK(run_scenario(sc, 1, streaming_ref, __FILE__, __LINE__) > 0);
    }
  // by hand: B = 6, sink 4 at n = 10 -> 0 1 2 3 8 9; B = 3 <= sink -> sink' = 2: 0 1 9; B = 1 -> 9
  AttentionOptions o = options(Method::Streaming, 6);
  CHECK(ref_streaming(o, 10) == std::vector<int32_t>({0, 1, 2, 3, 8, 9}));
  o.budget = 3;
  CHECK(ref_streaming(o, 10) == std::vector<int32_t>({0, 1, 9}));
  o.budget = 1;
  CHECK(ref_streaming(o, 10) == std::vector<int32_t>({9}));
  FakeCache c(1, 8, 16);
  auto s = cpu_layer(o, 2, 1, 8);
  s->append(c.kv(), 0, 10);
  const Selection sel = select_at(*s, nullptr, c.kv(), 10);
  CHECK(sel.heads.size() == 2u && sel.heads[0] == std::vector<int32_t>({9}) && sel.heads[1] == sel.heads[0]);
}

// ---- quest --------------------------------------------------------------------------------------

TEST(cpu_layer_quest_matches_reference) {
  int compared = 0;
  uint32_t seed = 100;
  for (int D : {32, 64})
    for (int group : {1, 3, 4})
      for (int P : {1, 4, 16})
        for (GqaSelection gqa : {GqaSelection::PerQueryHead, GqaSelection::PerKvHead})
          for (int B : {P, 2 * P + 3, 5 * P}) {
            Scenario sc;
            sc.opts = options(Method::Quest, B);
            sc.opts.page_size = P;
            sc.opts.gqa = gqa;
            sc.KV = 2;
            sc.H = 2 * group;
            sc.D = D;
            sc.key_sd = 1.0f;
            sc.prefill = int(seed % 3) * 41;  // 0, 41 or 82 tokens, not multiples of the page size
            sc.steps = 30;
            compared += run_scenario(sc, seed++, quest_ref, __FILE__, __LINE__);
          }
  CHECK(compared > 1000);
}

TEST(cpu_layer_quest_ties_and_per_kv_groups) {
  // few distinct keys: many pages with equal bounds, so the tie rule decides
  for (GqaSelection gqa : {GqaSelection::PerQueryHead, GqaSelection::PerKvHead}) {
    Scenario sc;
    sc.opts = options(Method::Quest, 24);
    sc.opts.page_size = 4;
    sc.opts.gqa = gqa;
    sc.H = 6;
    sc.KV = 2;
    sc.D = 32;
    sc.prefill = 70;
    sc.steps = 20;
    sc.distinct_keys = 1;
    CHECK(run_scenario(sc, 7, quest_ref, __FILE__, __LINE__) == 20);
  }
}

// ---- adamas -------------------------------------------------------------------------------------

TEST(cpu_layer_adamas_matches_reference) {
  int compared = 0;
  uint32_t seed = 1000;
  for (int D : {64, 128})
    for (int group : {1, 3, 4})
      for (int bits : {1, 2, 3})
        for (Distance metric : {Distance::L1, Distance::L2})
          for (Granularity gran : {Granularity::Token, Granularity::Page})
            for (GqaSelection gqa : {GqaSelection::PerQueryHead, GqaSelection::PerKvHead}) {
              Scenario sc;
              const int P = seed % 2 ? 4 : 16;
              const int budgets_token[] = {1, 2, 9, 40}, budgets_page[] = {P, 2 * P + 1, 3 * P};
              const int B = gran == Granularity::Token ? budgets_token[seed % 4] : budgets_page[seed % 3];
              sc.opts = options(Method::Adamas, B);
              sc.opts.bits = bits;
              sc.opts.distance = metric;
              sc.opts.granularity = gran;
              sc.opts.gqa = gqa;
              sc.opts.page_size = P;
              sc.opts.hadamard = seed % 5 != 0;
              sc.KV = 2;
              sc.H = 2 * group;
              sc.D = D;
              sc.key_sd = bits == 3 ? 10.0f : 8.0f;
              sc.prefill = 60 + int(seed % 7);
              sc.steps = 5;
              compared += run_scenario(sc, seed++, adamas_ref, __FILE__, __LINE__);
            }
  CHECK(compared >= 144 * 5);
}

TEST(cpu_layer_adamas_ties_go_to_recent_tokens) {
  for (int bits : {1, 2})
    for (Granularity gran : {Granularity::Token, Granularity::Page}) {
      Scenario sc;
      sc.opts = options(Method::Adamas, 20);
      sc.opts.bits = bits;
      sc.opts.granularity = gran;
      sc.opts.page_size = 4;
      sc.H = 3;
      sc.KV = 1;
      sc.prefill = 90;
      sc.steps = 10;
      sc.distinct_keys = 3;  // three distinct codes: hundreds of equal distances
      CHECK(run_scenario(sc, 77, adamas_ref, __FILE__, __LINE__) == 10);
    }
  // by hand: identical keys, B = 4 -> the three most recent past tokens plus the current one
  AttentionOptions o = options(Method::Adamas, 4);
  validate(o, 8, 4);
  FakeCache c(1, 8, 16);
  for (int t = 0; t < 10; ++t) std::fill_n(c.key(0, t), 8, 1.0f);
  auto s = cpu_layer(o, 1, 1, 8);
  s->append(c.kv(), 0, 10);
  s->prefill_done(c.kv());
  std::vector<float> q(8, -3.0f);
  CHECK(select_at(*s, q.data(), c.kv(), 10).heads[0] == std::vector<int32_t>({6, 7, 8, 9}));
}

TEST(cpu_layer_adamas_thresholds_explicit_and_auto) {
  uint32_t seed = 5000;
  for (int bits : {1, 2, 3})
    for (bool auto_t : {false, true})
      for (int prefill : {0, 37}) {
        Scenario sc;
        sc.opts = options(Method::Adamas, 12);
        sc.opts.bits = bits;
        if (auto_t) {
          sc.opts.auto_thresholds = true;
        } else {
          sc.opts.thresholds.clear();
          for (int j = 0; j < (1 << bits) - 1; ++j) sc.opts.thresholds.push_back(-2.5f + 1.25f * j);
        }
        sc.H = 6;
        sc.KV = 2;
        sc.key_sd = 2.0f;
        sc.prefill = prefill;
        sc.steps = prefill ? 8 : 30;
        CHECK(run_scenario(sc, seed++, adamas_ref, __FILE__, __LINE__) > 0);
      }
}

TEST(cpu_layer_adamas_auto_thresholds_fitted_once) {
  // The thresholds come from the keys present at the end of the prefill: keys appended later,
  // however different, do not move them (the reference fits on the prefill only).
  Scenario sc;
  sc.opts = options(Method::Adamas, 8);
  sc.opts.auto_thresholds = true;
  sc.H = 2;
  sc.KV = 1;
  sc.prefill = 20;
  sc.steps = 40;
  CHECK(run_scenario(sc, 9, adamas_ref, __FILE__, __LINE__) == 40);
}

// ---- oracle -------------------------------------------------------------------------------------

TEST(cpu_layer_oracle_matches_reference) {
  int compared = 0;
  uint32_t seed = 7000;
  for (int D : {32, 64, 128})
    for (int group : {1, 3, 4})
      for (GqaSelection gqa : {GqaSelection::PerQueryHead, GqaSelection::PerKvHead})
        for (int B : {1, 2, 9, 40}) {
          Scenario sc;
          sc.opts = options(Method::Oracle, B);
          sc.opts.gqa = gqa;
          sc.KV = 2;
          sc.H = 2 * group;
          sc.D = D;
          sc.key_sd = 1.0f;
          sc.prefill = int(seed % 2) * 53;  // none, or 53 tokens in chunks
          sc.steps = sc.prefill ? 6 : 60;
          compared += run_scenario(sc, seed++, oracle_ref, __FILE__, __LINE__);
        }
  CHECK(compared > 500);
}

TEST(cpu_layer_oracle_ties_go_to_recent_tokens) {
  for (GqaSelection gqa : {GqaSelection::PerQueryHead, GqaSelection::PerKvHead}) {
    Scenario sc;
    sc.opts = options(Method::Oracle, 12);
    sc.opts.gqa = gqa;
    sc.H = 4;
    sc.KV = 2;
    sc.prefill = 80;
    sc.steps = 10;
    sc.distinct_keys = 2;  // two distinct keys: dozens of equal scores
    CHECK(run_scenario(sc, 71, oracle_ref, __FILE__, __LINE__) == 10);
  }
}

// ---- contract checks ------------------------------------------------------------------------------

TEST(cpu_layer_factory_and_misuse) {
  AttentionOptions o = options(Method::Quest, 32);
  validate(o, 64, 4);
  CHECK_THROWS_WITH(cpu_layer(o, 5, 2, 64), "do not form a valid layout");
  FakeCache c(2, 64, 64);
  std::vector<float> q(4 * 64, 1.0f);
  for (Method m : {Method::Full, Method::Streaming, Method::Quest, Method::Adamas, Method::Oracle}) {
    AttentionOptions mo = options(m, 24);
    validate(mo, 64, 4);
    auto s = cpu_layer(mo, 4, 2, 64);
    s->append(c.kv(), 0, 20);
    CHECK_THROWS_WITH(s->append(c.kv(), 25, 5), "expected 20");
    // n <= budget: nothing to estimate or select, every position is attended to
    s->estimate(q.data(), c.kv(), 20);
    s->select(20);
    const Selection all = s->selection(20);
    CHECK(all.heads.size() == 4u && all.heads[3].size() == 20u && all.heads[3][19] == 19);
    s->append(c.kv(), 20, 10);
    if (m == Method::Full) continue;
    CHECK_THROWS_WITH(s->estimate(q.data(), c.kv(), 31), "30 positions were appended");
    CHECK_THROWS_WITH(s->attend(q.data(), q.data(), c.kv(), 30), "without select() or use_selection()");
    CHECK_THROWS_WITH(s->selection(30), "before select()");
    if (m != Method::Streaming) CHECK_THROWS_WITH(s->select(30), "without an estimate");
  }
}

// ---- attention, given lists, recall, bytes -------------------------------------------------------

namespace {

// softmax(scale q . K[list]) . V[list] in double, straight from the definition.
std::vector<double> ref_attention(const float* q, const FakeCache& c, const std::vector<float>& v, int kvh,
                                  const std::vector<int32_t>& list) {
  const int D = c.D;
  std::vector<double> logit(list.size()), out(static_cast<size_t>(D), 0.0);
  double mx = -INFINITY, sum = 0;
  for (size_t i = 0; i < list.size(); ++i) {
    double dot = 0;
    for (int d = 0; d < D; ++d) dot += double(q[d]) * c.k[(size_t(kvh) * c.cap + list[i]) * D + d];
    logit[i] = dot / std::sqrt(double(D));
    mx = std::max(mx, logit[i]);
  }
  for (double& x : logit) sum += (x = std::exp(x - mx));
  for (size_t i = 0; i < list.size(); ++i)
    for (int d = 0; d < D; ++d) out[d] += logit[i] / sum * v[(size_t(kvh) * c.cap + list[i]) * D + d];
  return out;
}

// The share of full attention's softmax mass over [0, n) on the list, in double.
double ref_mass(const float* q, const FakeCache& c, int kvh, int n, const std::vector<int32_t>& list) {
  std::vector<double> p(static_cast<size_t>(n));
  double mx = -INFINITY, sum = 0, on = 0;
  for (int t = 0; t < n; ++t) {
    double dot = 0;
    for (int d = 0; d < c.D; ++d) dot += double(q[d]) * c.k[(size_t(kvh) * c.cap + t) * c.D + d];
    mx = std::max(mx, p[t] = dot / std::sqrt(double(c.D)));
  }
  for (double& x : p) sum += (x = std::exp(x - mx));
  for (int32_t t : list) on += p[t];
  return on / sum;
}

}  // namespace

TEST(cpu_layer_attends_over_its_selection_and_given_lists) {
  std::mt19937 rng(31);
  for (Method m : {Method::Full, Method::Streaming, Method::Quest, Method::Adamas, Method::Oracle})
    for (int group : {1, 3}) {
      const int KV = 2, H = KV * group, D = 64, n = 150;
      AttentionOptions o = options(m, 40);
      o.page_size = 8;
      validate(o, D, 4);
      FakeCache c(KV, D, n + 4);
      fill_normal(rng, c.k.data(), c.k.size(), 2.0f);
      std::vector<float> v(c.k.size()), q(size_t(H) * D), out(q.size()), mass(static_cast<size_t>(H));
      fill_normal(rng, v.data(), v.size(), 1.0f);
      fill_normal(rng, q.data(), q.size(), 2.0f);
      const LayerKV kv{c.k.data(), v.data(), int64_t(c.cap) * D, KV, D};
      auto layer = cpu_layer(o, H, KV, D);
      layer->append(kv, 0, n);
      layer->prefill_done(kv);
      layer->step(out.data(), q.data(), kv, n);
      layer->selected_mass(mass.data(), q.data(), kv, n);
      const Selection sel = layer->selection(n);
      CHECK_EQ(sel.heads.size(), size_t(H));
      for (int h = 0; h < H; ++h) {
        const std::vector<double> want = ref_attention(&q[size_t(h) * D], c, v, h / group, sel.heads[h]);
        double err = 0;
        for (int d = 0; d < D; ++d) err = std::max(err, std::fabs(out[size_t(h) * D + d] - want[d]));
        CHECK(err < 1e-5);
        CHECK_NEAR(mass[h], ref_mass(&q[size_t(h) * D], c, h / group, n, sel.heads[h]), 1e-5);
        if (m == Method::Full) CHECK_EQ(int(sel.heads[h].size()), n);
      }
      if (m == Method::Full) continue;

      // another layer attending over these lists (a replay) gives the same bits; then over random
      // lists of different lengths per head
      auto replay = cpu_layer(o, H, KV, D);
      replay->append(kv, 0, n);
      replay->prefill_done(kv);
      std::vector<float> again(out.size(), NAN);
      replay->use_selection(sel, n);
      replay->attend(again.data(), q.data(), kv, n);
      CHECK(again == out);
      CHECK(replay->selection(n).heads == sel.heads);

      Selection given;
      for (int h = 0; h < H; ++h) {
        std::vector<int32_t> l;
        for (int t = 0; t < n; ++t)
          if (rng() % 4 == 0 || t == n - 1) l.push_back(t);
        given.heads.push_back(l);
      }
      replay->use_selection(given, n);
      replay->attend(again.data(), q.data(), kv, n);
      replay->selected_mass(mass.data(), q.data(), kv, n);
      CHECK(replay->selection(n).heads == given.heads);
      for (int h = 0; h < H; ++h) {
        const std::vector<double> want = ref_attention(&q[size_t(h) * D], c, v, h / group, given.heads[h]);
        for (int d = 0; d < D; ++d) CHECK_NEAR(again[size_t(h) * D + d], want[d], 1e-5);
        CHECK_NEAR(mass[h], ref_mass(&q[size_t(h) * D], c, h / group, n, given.heads[h]), 1e-5);
      }

      Selection bad = given;
      bad.heads.pop_back();
      CHECK_THROWS_WITH(replay->use_selection(bad, n), "lists for " + std::to_string(H) + " query heads");
      bad = given;
      bad.heads[0] = {3, 2};
      CHECK_THROWS_WITH(replay->use_selection(bad, n), "head 0 lists position 2 at index 1");
      bad.heads[0] = {0, n};
      CHECK_THROWS_WITH(replay->use_selection(bad, n), "within [0, 150)");
      bad.heads[0].clear();
      CHECK_THROWS_WITH(replay->use_selection(bad, n), "the list of head 0 is empty");
    }
}

TEST(cpu_layer_replay_fits_auto_thresholds_at_the_same_step) {
  // Without a prefill, auto thresholds are fitted at the first sparse step; a layer that attends
  // over given lists at that step must fit them too, so that its later selections agree.
  std::mt19937 rng(32);
  const int H = 4, KV = 2, D = 64, total = 60;
  AttentionOptions o = options(Method::Adamas, 12);
  o.auto_thresholds = true;
  validate(o, D, 4);
  FakeCache c(KV, D, total);
  fill_normal(rng, c.k.data(), c.k.size(), 3.0f);
  auto a = cpu_layer(o, H, KV, D), b = cpu_layer(o, H, KV, D);
  std::vector<float> q(size_t(H) * D), out(q.size());
  for (int n = 1; n <= total; ++n) {
    a->append(c.kv(), n - 1, 1);
    b->append(c.kv(), n - 1, 1);
    fill_normal(rng, q.data(), q.size(), 3.0f);
    a->step(out.data(), q.data(), c.kv(), n);
    if (n == o.budget + 1) {
      b->use_selection(a->selection(n), n);
      b->attend(out.data(), q.data(), c.kv(), n);
    } else {
      b->step(out.data(), q.data(), c.kv(), n);
    }
    if (a->selection(n).heads != b->selection(n).heads) {
      adamas::test::fail(__FILE__, __LINE__, "selections part at n = " + std::to_string(n));
      break;
    }
  }
}

TEST(cpu_layer_bytes_per_phase) {
  // H 4, KV 2, D 64, n 100, B 32: hand-computed from the float32 layouts
  auto bytes = [](AttentionOptions o, int n) {
    validate(o, 64, 4);
    return cpu_layer(o, 4, 2, 64)->bytes(n);
  };
  const double qo = 2 * 4.0 * 4 * 64;  // q read, out written
  PhaseBytes b = bytes(options(Method::Full, 0), 100);
  CHECK_EQ(b.estimate + b.select, 0.0);
  CHECK_EQ(b.attend, 2 * 4.0 * 2 * 100 * 64 + qo);
  b = bytes(options(Method::Adamas, 200), 100);  // dense below the budget
  CHECK_EQ(b.total(), 2 * 4.0 * 2 * 100 * 64 + qo);
  b = bytes(options(Method::Streaming, 32), 100);
  CHECK_EQ(b.estimate, 0.0);
  CHECK_EQ(b.select, 4.0 * 32);
  CHECK_EQ(b.attend, 2 * 32 * (2 * 4.0 * 64 + 4) + qo);  // the shared list read once per KV head
  AttentionOptions quest = options(Method::Quest, 32);
  b = bytes(quest, 100);  // 6 complete pages; 1 page + the 4 tokens of the current one
  CHECK_EQ(b.estimate, 2 * 4.0 * 2 * 64 * 6 + 4.0 * 4 * 6 + 4.0 * 4 * 64);
  CHECK_EQ(b.select, 4.0 * 4 * 6 + 4.0 * 4 * 20);
  CHECK_EQ(b.attend, 4 * 20 * (2 * 4.0 * 64 + 4) + qo);
  quest.gqa = GqaSelection::PerKvHead;
  CHECK_EQ(bytes(quest, 100).attend, 2 * 20 * (2 * 4.0 * 64 + 4) + qo);
  AttentionOptions adamas = options(Method::Adamas, 32);
  b = bytes(adamas, 100);  // 16-byte codes of the 99 past tokens
  CHECK_EQ(b.estimate, 2 * 99 * 16.0 + 4.0 * 4 * 99 + 4.0 * 4 * 64);
  CHECK_EQ(b.select, 4.0 * 4 * 99 + 4.0 * 4 * 32);
  adamas.granularity = Granularity::Page;
  b = bytes(adamas, 100);
  CHECK_EQ(b.estimate, 2 * 96 * 16.0 + 4.0 * 4 * 6 + 4.0 * 4 * 64);
  CHECK_EQ(b.select, 4.0 * 4 * 6 + 4.0 * 4 * 20);
  b = bytes(options(Method::Oracle, 32), 100);  // the float32 keys of the 99 past tokens
  CHECK_EQ(b.estimate, 4.0 * 2 * 99 * 64 + 4.0 * 4 * 64 + 4.0 * 4 * 99);
  CHECK_EQ(b.select, 4.0 * 4 * 99 + 4.0 * 4 * 32);
  CHECK_EQ(b.attend, 4 * 32 * (2 * 4.0 * 64 + 4) + qo);
}

// ---- cost ---------------------------------------------------------------------------------------

TEST(cpu_layer_cost_report) {
  if (!std::getenv("ADAMAS_TEST_TIMING")) return adamas::test::skip("set ADAMAS_TEST_TIMING=1 to print the costs");
  struct Shape { const char* name; int H, KV, D; };
  for (Shape shape : {Shape{"9x3x64 (SmolLM2)", 9, 3, 64}, Shape{"32x8x128 (Llama-3-8B)", 32, 8, 128},
                      Shape{"32x32x128 (Llama-2-7B)", 32, 32, 128}}) {
    const int n = 4096;
    std::mt19937 rng(3);
    FakeCache cache(shape.KV, shape.D, n);
    fill_normal(rng, cache.k.data(), cache.k.size(), 8.0f);
    std::vector<float> q(size_t(shape.H) * shape.D);
    fill_normal(rng, q.data(), q.size(), 8.0f);
    struct Variant {
      const char* label;
      Method m;
      int bits;
      Distance dist;
      Granularity gran;
      GqaSelection gqa;
    };
    const Distance L1 = Distance::L1;
    const Granularity tok = Granularity::Token;
    const GqaSelection per_q = GqaSelection::PerQueryHead;
    const Variant variants[] = {
        {"streaming", Method::Streaming, 2, L1, tok, per_q},
        {"quest", Method::Quest, 2, L1, tok, per_q},
        {"adamas", Method::Adamas, 2, L1, tok, per_q},
        {"adamas l2", Method::Adamas, 2, Distance::L2, tok, per_q},
        {"adamas 1-bit", Method::Adamas, 1, L1, tok, per_q},
        {"adamas 3-bit", Method::Adamas, 3, L1, tok, per_q},
        {"adamas page", Method::Adamas, 2, L1, Granularity::Page, per_q},
        {"adamas gqa=kv", Method::Adamas, 2, L1, tok, GqaSelection::PerKvHead},
        {"oracle", Method::Oracle, 2, L1, tok, per_q},
    };
    for (const Variant& v : variants) {
      for (int B : {64, 256}) {
        AttentionOptions o = options(v.m, B);
        o.bits = v.bits;
        o.distance = v.dist;
        o.granularity = v.gran;
        o.gqa = v.gqa;
        validate(o, shape.D, 4);
        auto s = cpu_layer(o, shape.H, shape.KV, shape.D);
        s->append(cache.kv(), 0, n - 1);
        s->prefill_done(cache.kv());
        s->append(cache.kv(), n - 1, 1);
        select_at(*s, q.data(), cache.kv(), n);  // warm up: scratch grows once
        const int reps = 200;
        const auto t0 = std::chrono::steady_clock::now();
        for (int r = 0; r < reps; ++r) {
          s->estimate(q.data(), cache.kv(), n);
          s->select(n);
        }
        const std::chrono::duration<double, std::micro> took = std::chrono::steady_clock::now() - t0;
        const double us = took.count() / reps;
        std::fprintf(stderr, "  estimate+select %-22s %-14s B=%-4d n=%d: %8.1f us per step (%.2f us per query head)\n",
                     shape.name, v.label, B, n, us, us / shape.H);
      }
    }
  }
}
