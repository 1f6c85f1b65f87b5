// Oracle: the exact top-B by the true attention logits, the ceiling any token-level selector can
// reach at budget B (for recall and accuracy, not speed).
//
// Budget B = KV tokens each query head attends to at a decode step, the current token (position
// n - 1) included; a step is sparse when n > B.
// Estimate: the score of past token t for query head h is q . k_t, summed in fp32 over
// d = 0, 1, ..., D - 1 in that order with one fused multiply-add a term (s = fma(q_d, k_d, s) from
// s = 0), so that every backend can compute the same bits; with GQA per KV head, the group's
// scores added in head order. The softmax scale does not change the order and is left out.
// Select: the B - 1 past tokens [0, n - 1) with the largest score (NaN ranks as -inf; ties to the
// more recent token), plus the current token n - 1, ascending.
// GQA per query head (default): each query head ranks its KV head's keys with its own q.
// GQA per KV head: one set per KV head, ranked by the summed scores of its query heads.
#include <cmath>

#include "attention/cpu/layer.h"
#include "attention/cpu/topk.h"

namespace adamas::cpu {

namespace {

class OracleLayer final : public Layer {
 public:
  OracleLayer(const AttentionOptions& opts, int n_heads, int n_kv_heads, int head_dim)
      : Layer(opts, n_heads, n_kv_heads, head_dim),
        per_kv_(opts.gqa == GqaSelection::PerKvHead),
        work_(size_t(per_kv_ ? n_kv_heads : n_heads)) {}

 private:
  struct Work {
    std::vector<float> score, s;  // [past tokens] the ranker's scores; one head's
    std::vector<int32_t> topk;    // top-k scratch
  };

  int rankers() const { return per_kv_ ? KV_ : H_; }

  // s[t] = q . k_t for t < n, each a chain of fmas in d order. Eight keys at a time, each with
  // its own chain, so the chains run side by side and give the bits of one chain alone.
  void scores(float* s, const float* q, const KVView& kv, int kvh, int n) const {
    constexpr int kKeys = 8;
    int t = 0;
    for (; t + kKeys <= n; t += kKeys) {
      const float* k = kv.key(kvh, t);
      float acc[kKeys] = {};
      for (int d = 0; d < D_; ++d)
        for (int j = 0; j < kKeys; ++j) acc[j] = std::fma(q[d], k[size_t(j) * D_ + d], acc[j]);
      for (int j = 0; j < kKeys; ++j) s[t + j] = acc[j];
    }
    for (; t < n; ++t) {
      const float* k = kv.key(kvh, t);
      float acc = 0.0f;
      for (int d = 0; d < D_; ++d) acc = std::fma(q[d], k[d], acc);
      s[t] = acc;
    }
  }

  bool has_estimate() const override { return true; }

  void estimate_sparse(const float* q, const KVView& kv) override {
    const int past = kv.length - 1, n_rankers = rankers();
#pragma omp parallel for schedule(static)
    for (int r = 0; r < n_rankers; ++r) {
      const int kvh = per_kv_ ? r : r / group_;
      const int h0 = per_kv_ ? r * group_ : r, h1 = per_kv_ ? h0 + group_ : r + 1;
      Work& w = work_[r];
      w.score.resize(size_t(past));
      scores(w.score.data(), q + size_t(h0) * D_, kv, kvh, past);
      w.s.resize(size_t(past));
      for (int h = h0 + 1; h < h1; ++h) {
        scores(w.s.data(), q + size_t(h) * D_, kv, kvh, past);
        for (int t = 0; t < past; ++t) w.score[t] += w.s[t];
      }
    }
  }

  void select_sparse(int n, Selection& sel) override {
    const int B = opts_.budget, n_rankers = rankers();
#pragma omp parallel for schedule(static)
    for (int r = 0; r < n_rankers; ++r) {
      const int h0 = per_kv_ ? r * group_ : r, h1 = per_kv_ ? h0 + group_ : r + 1;
      std::vector<int32_t>& out = sel.heads[h0];
      out.resize(size_t(B));
      largest_k(out.data(), work_[r].score.data(), n - 1, B - 1, work_[r].topk);
      out[B - 1] = n - 1;
      for (int h = h0 + 1; h < h1; ++h) sel.heads[h].assign(out.begin(), out.end());
    }
  }

  // the past keys and q read, one score per past token and ranker written; select reads those
  // back and writes the lists
  double estimate_bytes(int n) const override {
    return 4.0 * KV_ * double(n - 1) * D_ + 4.0 * H_ * D_ + 4.0 * rankers() * double(n - 1);
  }
  double select_bytes(int n) const override {
    return 4.0 * rankers() * double(n - 1) + 4.0 * rankers() * opts_.budget;
  }
  int distinct_lists() const override { return rankers(); }

  const bool per_kv_;
  std::vector<Work> work_;
};

}  // namespace

std::unique_ptr<LayerAttention> make_oracle_layer(const AttentionOptions& opts, int n_heads, int n_kv_heads,
                                                  int head_dim) {
  return std::make_unique<OracleLayer>(opts, n_heads, n_kv_heads, head_dim);
}

}  // namespace adamas::cpu
