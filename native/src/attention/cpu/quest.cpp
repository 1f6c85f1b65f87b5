// Quest: page-level top-k by an upper bound of the attention logits.
//
// Budget B = KV tokens each query head attends to at a decode step, the current token (position
// n - 1) included; a step is sparse when n > B.
// Pages of P tokens: page p = positions [pP, min((p + 1)P, n)). Per KV head, page and channel d
// the layer keeps max_d and min_d of the post-RoPE keys, updated as tokens are appended (a
// partial last page holds the extrema of the tokens it has so far).
// Estimate: the score of page p for query head h (fp32, summed over d = 0, 1, ..., D - 1 in that
// order):  U = sum_d max(q_d * max_d, q_d * min_d)   >= max over the page's keys k of q . k.
// Select: the current page is the page of n - 1; the floor(B / P) - 1 complete pages
// 0 .. cur - 1 with the highest U (ties to the more recent page), plus the current page; the head
// attends to every token of those pages (at most B tokens), positions ascending.
// GQA per query head (default): each query head ranks its KV head's pages with its own q.
// GQA per KV head: one set per KV head, ranked by the sum of U over the group's query heads.
#include <algorithm>
#include <stdexcept>

#include "attention/cpu/layer.h"
#include "attention/cpu/quest.h"
#include "attention/cpu/topk.h"

namespace adamas::cpu {

namespace {

class QuestLayer final : public Layer {
 public:
  QuestLayer(const AttentionOptions& opts, int n_heads, int n_kv_heads, int head_dim)
      : Layer(opts, n_heads, n_kv_heads, head_dim),
        P_(opts.page_size),
        per_kv_(opts.gqa == GqaSelection::PerKvHead),
        bounds_(n_kv_heads, head_dim, opts.page_size),
        work_(size_t(per_kv_ ? n_kv_heads : n_heads)) {}

 private:
  // Per ranker (query head, or KV head) scratch, kept between steps.
  struct Work {
    std::vector<float> score;          // [complete pages]
    std::vector<int32_t> picks, topk;  // chosen pages; top-k scratch
  };

  int rankers() const { return per_kv_ ? KV_ : H_; }
  int complete_pages(int n) const { return (n - 1) / P_; }  // the pages before the current one

  void on_append(const KVView& kv, int pos, int n) override { bounds_.append(kv, pos, n); }
  bool has_estimate() const override { return true; }

  void estimate_sparse(const float* q, const KVView& kv) override {
    const int cur = complete_pages(kv.length), n_rankers = rankers();
#pragma omp parallel for schedule(static)
    for (int r = 0; r < n_rankers; ++r) {
      // r is a query head, or with per-KV-head selection a KV head whose group's scores are summed
      const int kvh = per_kv_ ? r : r / group_;
      const int h0 = per_kv_ ? r * group_ : r, h1 = per_kv_ ? h0 + group_ : r + 1;
      Work& w = work_[r];
      w.score.assign(size_t(cur), 0.0f);
      for (int h = h0; h < h1; ++h) add_page_upper_bounds(w.score.data(), q + size_t(h) * D_, bounds_, kvh, cur, D_);
    }
  }

  void select_sparse(int n, Selection& sel) override {
    const int cur = complete_pages(n), k = opts_.budget / P_ - 1, n_rankers = rankers();
#pragma omp parallel for schedule(static)
    for (int r = 0; r < n_rankers; ++r) {
      const int h0 = per_kv_ ? r * group_ : r, h1 = per_kv_ ? h0 + group_ : r + 1;
      Work& w = work_[r];
      w.picks.resize(size_t(k));
      largest_k(w.picks.data(), w.score.data(), cur, k, w.topk);
      std::vector<int32_t>& out = sel.heads[h0];
      out.clear();
      for (int32_t p : w.picks)
        for (int t = p * P_; t < (p + 1) * P_; ++t) out.push_back(t);
      for (int t = cur * P_; t < n; ++t) out.push_back(t);
      for (int h = h0 + 1; h < h1; ++h) sel.heads[h].assign(out.begin(), out.end());
    }
  }

  // bounds (max and min) of the complete pages and q read, one score per page and ranker written
  double estimate_bytes(int n) const override {
    const int cur = complete_pages(n);
    return 2.0 * 4 * KV_ * D_ * cur + 4.0 * rankers() * cur + 4.0 * H_ * D_;
  }
  double select_bytes(int n) const override {
    return 4.0 * rankers() * complete_pages(n) + 4.0 * rankers() * list_length(n);
  }
  int list_length(int n) const override { return (opts_.budget / P_ - 1) * P_ + n - complete_pages(n) * P_; }
  int distinct_lists() const override { return rankers(); }

  const int P_;
  const bool per_kv_;
  PageBounds bounds_;
  std::vector<Work> work_;
};

}  // namespace

PageBounds::PageBounds(int n_kv_heads, int head_dim, int page_size)
    : D_(head_dim), P_(page_size), max_(size_t(n_kv_heads)), min_(size_t(n_kv_heads)) {}

void PageBounds::append(const KVView& kv, int pos, int n) {
  if (pos != length_)
    throw std::logic_error("quest page bounds: append at position " + std::to_string(pos) + ", expected " +
                           std::to_string(length_));
  for (size_t kvh = 0; kvh < max_.size(); ++kvh) {
    std::vector<float>& mx = max_[kvh];
    std::vector<float>& mn = min_[kvh];
    for (int t = pos; t < pos + n; ++t) {
      const float* k = kv.key(int(kvh), t);
      if (t % P_ == 0) {  // a new page
        mx.insert(mx.end(), k, k + D_);
        mn.insert(mn.end(), k, k + D_);
        continue;
      }
      float* pmx = &mx[size_t(t / P_) * D_];
      float* pmn = &mn[size_t(t / P_) * D_];
      for (int d = 0; d < D_; ++d) {
        pmx[d] = std::max(pmx[d], k[d]);
        pmn[d] = std::min(pmn[d], k[d]);
      }
    }
  }
  length_ = pos + n;
}

void add_page_upper_bounds(float* score, const float* q, const PageBounds& bounds, int kvh, int n_pages, int D) {
  constexpr int kPages = 4;  // independent sums in flight
  int p = 0;
  for (; p + kPages <= n_pages; p += kPages) {
    const float* mx = bounds.max(kvh, p);  // pages p .. p+3 are contiguous: [page][D]
    const float* mn = bounds.min(kvh, p);
    float u[kPages] = {};
    for (int d = 0; d < D; ++d)
      for (int j = 0; j < kPages; ++j) {
        const float a = q[d] * mx[j * D + d], b = q[d] * mn[j * D + d];
        u[j] += a > b ? a : b;  // as page_upper_bound: each page summed in d order
      }
    for (int j = 0; j < kPages; ++j) score[p + j] += u[j];
  }
  for (; p < n_pages; ++p) score[p] += page_upper_bound(q, bounds.max(kvh, p), bounds.min(kvh, p), D);
}

std::unique_ptr<LayerAttention> make_quest_layer(const AttentionOptions& opts, int n_heads, int n_kv_heads,
                                                 int head_dim) {
  return std::make_unique<QuestLayer>(opts, n_heads, n_kv_heads, head_dim);
}

}  // namespace adamas::cpu
