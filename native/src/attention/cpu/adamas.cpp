// Adamas: token-level top-k by the distance between bucketized Hadamard codes of q and k.
//
// Budget B = KV tokens each query head attends to at a decode step, the current token (position
// n - 1) included; a step is sparse when n > B.
// Transform: y = H x / sqrt(D) (hadamard.h) of the post-RoPE query of each query head and key of
// each KV head; with --no-hadamard, y = x.
// Codes (codes.h): element i gets the number of thresholds t_j with y_i > t_j (a value equal to a
// threshold goes to the lower bucket), packed at b bits per element LSB-first. Key codes are
// kept here, per KV head, beside the layer's KV cache: encoded in bulk when a prefill appends
// many tokens and one at a time at decode.
// Estimate: the distance from the query code to each key code, exact and on the packed codes:
// L1 = sum_i |a_i - b_i| (default; for b = 1 the Hamming distance) or L2 = sum_i (a_i - b_i)^2;
// with page granularity, per page the smallest distance over its tokens.
// Select, token granularity (default): the B - 1 past tokens [0, n - 1) with the smallest distance
// (ties to the more recent token, i.e. the larger position), plus the current token n - 1.
// Page granularity: pages of P tokens as in Quest; the floor(B / P) - 1 complete pages with the
// smallest score (ties to the more recent page), plus the current page.
// GQA per query head (default): each query head ranks its KV head's tokens with its own code.
// GQA per KV head: one set per KV head, ranked by the sum over the group's query heads of their
// scores (token: the distances; page: the page scores).
// Thresholds: --thresholds a,b,c or the defaults of b bits (options.h), the same for every head;
// with --thresholds auto, per KV head, the quantiles of codes.h's quantile_thresholds over all
// transformed key elements present when the dense prefill ends (without a prefill: at the first
// sparse step); the KV head's query heads use the same ones. Until they are fitted no key is
// encoded; fitting encodes every key present, later keys are encoded as they come.
// Output positions are ascending.
#include <algorithm>
#include <stdexcept>

#include "attention/cpu/codes.h"
#include "attention/cpu/hadamard.h"
#include "attention/cpu/layer.h"
#include "attention/cpu/topk.h"

namespace adamas::cpu {

namespace {

class AdamasLayer final : public Layer {
 public:
  AdamasLayer(const AttentionOptions& opts, int n_heads, int n_kv_heads, int head_dim)
      : Layer(opts, n_heads, n_kv_heads, head_dim),
        P_(opts.page_size),
        bits_(opts.bits),
        n_t_((1 << opts.bits) - 1),
        stride_(code_bytes(head_dim, opts.bits)),
        hadamard_(opts.hadamard),
        metric_(opts.distance),
        paged_(opts.granularity == Granularity::Page),
        per_kv_(opts.gqa == GqaSelection::PerKvHead),
        fitted_(!opts.auto_thresholds),
        codes_(size_t(n_kv_heads)),
        qcode_(size_t(n_heads) * code_bytes(head_dim, opts.bits)),
        work_(size_t(per_kv_ ? n_kv_heads : n_heads)) {
    if (!opts.auto_thresholds) {
      if (opts.thresholds.size() != size_t(n_t_))
        throw std::logic_error("adamas layer: " + std::to_string(opts.thresholds.size()) + " thresholds for " +
                               std::to_string(bits_) + " bits (options not validated?)");
      for (int kvh = 0; kvh < KV_; ++kvh)
        thresholds_.insert(thresholds_.end(), opts.thresholds.begin(), opts.thresholds.end());
    }
    for (Work& w : work_) w.y.resize(size_t(D_));
  }

 private:
  // Per ranker scratch, kept between steps so decode does not allocate once it has grown.
  struct Work {
    std::vector<float> y;               // [D] a transformed vector
    std::vector<int32_t> dist;          // [tokens] distances (summed over the group for per-KV)
    std::vector<int32_t> page_score;    // [pages]
    std::vector<int32_t> picks, topk;   // chosen pages; top-k scratch
  };

  int rankers() const { return per_kv_ ? KV_ : H_; }
  int complete_pages(int n) const { return (n - 1) / P_; }
  uint8_t* qcode(int h) { return &qcode_[size_t(h) * stride_]; }
  const float* thresholds(int kvh) const { return &thresholds_[size_t(kvh) * n_t_]; }
  const uint8_t* key_codes(int kvh) const { return codes_[kvh].data(); }

  void on_append(const KVView& kv, int pos, int n) override {
    if (fitted_) encode_keys(kv, pos, pos + n);
  }
  void on_prefill_done(const KVView& kv) override {
    if (!fitted_) fit_thresholds(kv);
  }
  void on_sparse_step(const KVView& kv) override {
    if (!fitted_) fit_thresholds(kv);
  }
  bool has_estimate() const override { return true; }

  void estimate_sparse(const float* q, const KVView& kv) override {
    const int n = kv.length, n_rankers = rankers();
#pragma omp parallel for schedule(static)
    for (int r = 0; r < n_rankers; ++r) {
      // r is a query head, or with per-KV-head selection a KV head whose group's scores are summed
      const int kvh = per_kv_ ? r : r / group_;
      const int h0 = per_kv_ ? r * group_ : r, h1 = per_kv_ ? h0 + group_ : r + 1;
      Work& w = work_[r];
      for (int h = h0; h < h1; ++h) encode_query(q + size_t(h) * D_, kvh, qcode(h), w.y.data());
      if (paged_)
        page_scores(w, h0, h1, kvh, n);
      else
        distances(w, h0, h1, kvh, n - 1);  // past tokens only
    }
  }

  void select_sparse(int n, Selection& sel) override {
    const int B = opts_.budget, n_rankers = rankers();
#pragma omp parallel for schedule(static)
    for (int r = 0; r < n_rankers; ++r) {
      const int h0 = per_kv_ ? r * group_ : r, h1 = per_kv_ ? h0 + group_ : r + 1;
      Work& w = work_[r];
      std::vector<int32_t>& out = sel.heads[h0];
      if (paged_) {
        const int cur = complete_pages(n), k = B / P_ - 1;
        w.picks.resize(size_t(k));
        smallest_k(w.picks.data(), w.page_score.data(), cur, k, w.topk);
        out.clear();
        for (int32_t p : w.picks)
          for (int t = p * P_; t < (p + 1) * P_; ++t) out.push_back(t);
        for (int t = cur * P_; t < n; ++t) out.push_back(t);
      } else {
        out.resize(size_t(B));
        smallest_k(out.data(), w.dist.data(), n - 1, B - 1, w.topk);
        out[B - 1] = n - 1;
      }
      for (int h = h0 + 1; h < h1; ++h) sel.heads[h].assign(out.begin(), out.end());
    }
  }

  // codes of the keys scored and q read, one distance (or page score) per key (page) and ranker
  // written; select reads those back and writes the lists
  double estimate_bytes(int n) const override {
    const double scored = paged_ ? double(complete_pages(n)) * P_ : double(n - 1);
    const double written = paged_ ? double(complete_pages(n)) : double(n - 1);
    return double(KV_) * scored * stride_ + 4.0 * rankers() * written + 4.0 * H_ * D_;
  }
  double select_bytes(int n) const override {
    const double read = paged_ ? double(complete_pages(n)) : double(n - 1);
    return 4.0 * rankers() * read + 4.0 * rankers() * list_length(n);
  }
  int list_length(int n) const override {
    return paged_ ? (opts_.budget / P_ - 1) * P_ + n - complete_pages(n) * P_ : opts_.budget;
  }
  int distinct_lists() const override { return rankers(); }

  // y[D] = H x / sqrt(D) (or x without the transform).
  void transform(float* y, const float* x) const {
    std::copy(x, x + D_, y);
    if (hadamard_) hadamard_transform(y, D_);
  }

  void encode_query(const float* q, int kvh, uint8_t* code, float* y) const {
    transform(y, q);
    encode(code, y, D_, bits_, thresholds(kvh));
  }

  // Codes of the keys at positions [from, to) of every KV head.
  void encode_keys(const KVView& kv, int from, int to) {
    for (std::vector<uint8_t>& c : codes_) c.resize(size_t(to) * stride_);
    const int64_t total = int64_t(KV_) * (to - from);
#pragma omp parallel if (total > 64)
    {
      std::vector<float> y(static_cast<size_t>(D_));
#pragma omp for schedule(static)
      for (int64_t i = 0; i < total; ++i) {
        const int kvh = int(i / (to - from)), t = from + int(i % (to - from));
        transform(y.data(), kv.key(kvh, t));
        encode(&codes_[kvh][size_t(t) * stride_], y.data(), D_, bits_, thresholds(kvh));
      }
    }
  }

  // --thresholds auto: quantiles of every transformed key element present, per KV head.
  void fit_thresholds(const KVView& kv) {
    const int n = kv.length;
    thresholds_.assign(size_t(KV_) * n_t_, 0.0f);
#pragma omp parallel for schedule(static)
    for (int kvh = 0; kvh < KV_; ++kvh) {
      std::vector<float> values(size_t(n) * D_);
      for (int t = 0; t < n; ++t) transform(&values[size_t(t) * D_], kv.key(kvh, t));
      const std::vector<float> t = quantile_thresholds(values.data(), values.size(), bits_);
      std::copy(t.begin(), t.end(), &thresholds_[size_t(kvh) * n_t_]);
    }
    fitted_ = true;
    encode_keys(kv, 0, n);
  }

  // w.dist[0, n) = distance of the codes of query heads h0 .. h1-1 (summed) to the first n keys.
  void distances(Work& w, int h0, int h1, int kvh, int n) const {
    w.dist.resize(size_t(n));
    for (int h = h0; h < h1; ++h)
      code_distances(w.dist.data(), &qcode_[size_t(h) * stride_], key_codes(kvh), n, D_, bits_, metric_, h > h0);
  }

  // w.page_score[p] for the complete pages: each head's smallest distance over the page, summed.
  void page_scores(Work& w, int h0, int h1, int kvh, int n) const {
    const int cur = complete_pages(n);
    w.page_score.assign(size_t(cur), 0);
    for (int h = h0; h < h1; ++h) {
      distances(w, h, h + 1, kvh, cur * P_);
      for (int p = 0; p < cur; ++p)
        w.page_score[p] += *std::min_element(&w.dist[size_t(p) * P_], &w.dist[size_t(p + 1) * P_]);
    }
  }

  const int P_, bits_, n_t_, stride_;
  const bool hadamard_;
  const Distance metric_;
  const bool paged_, per_kv_;
  bool fitted_;                              // thresholds known and every appended key encoded
  std::vector<float> thresholds_;            // [kv_head][2^bits - 1]
  std::vector<std::vector<uint8_t>> codes_;  // [kv_head][position][stride] packed key codes
  std::vector<uint8_t> qcode_;               // [head][stride] packed query codes of this step
  std::vector<Work> work_;                   // [ranker]
};

}  // namespace

std::unique_ptr<LayerAttention> make_adamas_layer(const AttentionOptions& opts, int n_heads, int n_kv_heads,
                                                  int head_dim) {
  return std::make_unique<AdamasLayer>(opts, n_heads, n_kv_heads, head_dim);
}

}  // namespace adamas::cpu
