// Quest's page metadata: per KV head, page and channel, the max and min of the post-RoPE keys,
// kept in step with the KV cache; and the upper bound of q . k over a page that it gives.
#pragma once
#include <vector>

#include "tensor/kv_cache.h"

namespace adamas::cpu {

class PageBounds {
 public:
  PageBounds(int n_kv_heads, int head_dim, int page_size);

  // Keys of positions [pos, pos + n) were written (pos must equal length()). A page starts with
  // its first key as both bounds; each later key widens them, so a partial last page holds the
  // extrema of the tokens it has so far.
  void append(const KVView& kv, int pos, int n);

  int length() const { return length_; }                       // tokens appended
  int pages() const { return (length_ + P_ - 1) / P_; }        // pages started
  const float* max(int kvh, int page) const { return &max_[kvh][size_t(page) * D_]; }  // [D]
  const float* min(int kvh, int page) const { return &min_[kvh][size_t(page) * D_]; }  // [D]

 private:
  int D_, P_;
  int length_ = 0;
  std::vector<std::vector<float>> max_, min_;  // [kv_head][page][D]
};

// U = sum_d max(q_d * max_d, q_d * min_d), in fp32, d = 0 .. D-1 in order: for every key k with
// min <= k <= max channel-wise, U >= q . k.
inline float page_upper_bound(const float* q, const float* max, const float* min, int D) {
  float u = 0.0f;
  for (int d = 0; d < D; ++d) {
    const float a = q[d] * max[d], b = q[d] * min[d];
    u += a > b ? a : b;
  }
  return u;
}

// score[p] += page_upper_bound(q, page p) for the pages [0, n_pages) of KV head kvh, with the
// same result bit for bit; several pages at a time, so the sums do not wait on one another.
void add_page_upper_bounds(float* score, const float* q, const PageBounds& bounds, int kvh, int n_pages, int D);

}  // namespace adamas::cpu
