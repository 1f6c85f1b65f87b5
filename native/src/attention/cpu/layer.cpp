#include "attention/cpu/layer.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "attention/cpu/attend.h"
#include "common/error.h"

namespace adamas::cpu {

Layer::Layer(const AttentionOptions& opts, int n_heads, int n_kv_heads, int head_dim)
    : LayerAttention(opts),
      H_(n_heads),
      KV_(n_kv_heads),
      D_(head_dim),
      group_(n_heads / n_kv_heads),
      scale_(1.0f / std::sqrt(float(head_dim))) {
  sel_.heads.resize(size_t(n_heads));
}

KVView Layer::view(const LayerKV& kv, int n) const {
  if (kv.n_kv_heads != KV_ || kv.head_dim != D_)
    throw std::logic_error("CPU attention: a cache of " + std::to_string(kv.n_kv_heads) + " KV heads x " +
                           std::to_string(kv.head_dim) + " for a layer of " + std::to_string(KV_) + " x " +
                           std::to_string(D_));
  return KVView{static_cast<const float*>(kv.k), static_cast<const float*>(kv.v), KV_, D_, kv.head_stride, n};
}

void Layer::check_length(const char* phase, int n) const {
  if (n != length_)
    throw std::logic_error(std::string("CPU attention: ") + phase + " at length " + std::to_string(n) + " but " +
                           std::to_string(length_) + " positions were appended");
}

void Layer::append(const LayerKV& kv, int pos, int n) {
  if (pos != length_ || n < 0)
    throw std::logic_error("CPU attention: append at position " + std::to_string(pos) + ", expected " +
                           std::to_string(length_));
  on_append(view(kv, pos + n), pos, n);
  length_ = pos + n;
}

void Layer::prefill_done(const LayerKV& kv) { on_prefill_done(view(kv, length_)); }

void Layer::estimate(const float* q, const LayerKV& kv, int n) {
  if (!sparse(n)) return;
  check_length("estimate", n);
  const KVView v = view(kv, n);
  on_sparse_step(v);
  estimate_sparse(q, v);
  estimated_n_ = n;
}

void Layer::select(int n) {
  if (!sparse(n)) return;
  check_length("select", n);
  if (has_estimate() && estimated_n_ != n)
    throw std::logic_error("CPU attention: select at length " + std::to_string(n) + " without an estimate at it");
  select_sparse(n, sel_);
  listed_n_ = n;
}

void Layer::select_sparse(int, Selection&) {
  throw std::logic_error(std::string("CPU attention: ") + method_name(opts_.method) + " has no selection");
}

void Layer::use_selection(const Selection& sel, int n) {
  if (!sparse(n)) return;
  check_length("use_selection", n);
  if (sel.heads.size() != size_t(H_))
    throw InvalidArgument("use_selection: " + std::to_string(sel.heads.size()) + " lists for " + std::to_string(H_) +
                          " query heads");
  for (int h = 0; h < H_; ++h) {
    const std::vector<int32_t>& s = sel.heads[h];
    if (s.empty()) throw InvalidArgument("use_selection: the list of head " + std::to_string(h) + " is empty");
    for (size_t i = 0; i < s.size(); ++i)
      if (s[i] < 0 || s[i] >= n || (i > 0 && s[i] <= s[i - 1]))
        throw InvalidArgument("use_selection: head " + std::to_string(h) + " lists position " + std::to_string(s[i]) +
                              " at index " + std::to_string(i) + "; positions must ascend within [0, " +
                              std::to_string(n) + ")");
  }
  sel_ = sel;
  listed_n_ = n;
}

void Layer::attend(float* out, const float* q, const LayerKV& kv, int n) {
  const KVView v = view(kv, n);
  if (!sparse(n)) return attend_decode_dense(out, q, v, H_, n, scale_);
  on_sparse_step(v);  // after use_selection, the step's first sight of the keys
  if (listed_n_ != n)
    throw std::logic_error("CPU attention: attend at length " + std::to_string(n) +
                           " without select() or use_selection() at it");
  size_t longest = 0;
  for (const std::vector<int32_t>& s : sel_.heads) longest = std::max(longest, s.size());
#pragma omp parallel
  {
    std::vector<float> p(longest);  // the probabilities of one head
#pragma omp for schedule(static)
    for (int h = 0; h < H_; ++h) {
      const std::vector<int32_t>& idx = sel_.heads[h];
      attend_decode(out + size_t(h) * D_, q + size_t(h) * D_, v, h / group_, idx.data(), int(idx.size()), scale_,
                    p.data());
    }
  }
}

Selection Layer::selection(int n) const {
  if (sparse(n)) {
    if (listed_n_ != n)
      throw std::logic_error("CPU attention: selection at length " + std::to_string(n) + " before select()");
    return sel_;
  }
  Selection all;
  all.heads.assign(size_t(H_), std::vector<int32_t>(size_t(n)));
  for (std::vector<int32_t>& s : all.heads)
    for (int t = 0; t < n; ++t) s[t] = t;
  return all;
}

void Layer::selected_mass(float* mass, const float* q, const LayerKV& kv, int n) {
  const KVView v = view(kv, n);
  const bool listed = sparse(n);
  if (listed && listed_n_ != n)
    throw std::logic_error("CPU attention: selected_mass at length " + std::to_string(n) + " before select()");
#pragma omp parallel
  {
    std::vector<float> p(static_cast<size_t>(n));
#pragma omp for schedule(static)
    for (int h = 0; h < H_; ++h) {
      attention_probs(p.data(), q + size_t(h) * D_, v, h / group_, n, scale_);
      double m = 0.0;
      if (listed) {
        for (int32_t i : sel_.heads[h]) m += p[i];
      } else {
        for (int i = 0; i < n; ++i) m += p[i];
      }
      mass[h] = float(m);
    }
  }
}

PhaseBytes Layer::bytes(int n) const {
  const double qo = 2 * 4.0 * H_ * D_;  // q read, out written
  PhaseBytes b;
  if (!sparse(n)) {
    b.attend = 2.0 * 4 * KV_ * double(n) * D_ + qo;
    return b;
  }
  b.estimate = estimate_bytes(n);
  b.select = select_bytes(n);
  b.attend = double(distinct_lists()) * list_length(n) * (2.0 * 4 * D_ + 4) + qo;  // K, V rows and the index
  return b;
}

std::unique_ptr<LayerAttention> make_layer_attention(const AttentionOptions& opts, int n_heads, int n_kv_heads,
                                                     int head_dim) {
  if (n_heads < 1 || n_kv_heads < 1 || n_heads % n_kv_heads != 0 || head_dim < 1)
    throw InvalidArgument("CPU attention: " + std::to_string(n_heads) + " heads, " + std::to_string(n_kv_heads) +
                          " KV heads and head_dim " + std::to_string(head_dim) + " do not form a valid layout");
  switch (opts.method) {
    case Method::Full: return make_full_layer(opts, n_heads, n_kv_heads, head_dim);
    case Method::Streaming: return make_streaming_layer(opts, n_heads, n_kv_heads, head_dim);
    case Method::Quest: return make_quest_layer(opts, n_heads, n_kv_heads, head_dim);
    case Method::Adamas: return make_adamas_layer(opts, n_heads, n_kv_heads, head_dim);
    case Method::Oracle: return make_oracle_layer(opts, n_heads, n_kv_heads, head_dim);
  }
  throw InvalidArgument(std::string("CPU attention: no layer for method '") + method_name(opts.method) + "'");
}

// Full attention: no metadata and never a sparse step; everything above attends densely.
namespace {
class FullLayer final : public Layer {
 public:
  FullLayer(const AttentionOptions& opts, int n_heads, int n_kv_heads, int head_dim)
      : Layer(opts, n_heads, n_kv_heads, head_dim) {}
};
}  // namespace

std::unique_ptr<LayerAttention> make_full_layer(const AttentionOptions& opts, int n_heads, int n_kv_heads,
                                                int head_dim) {
  return std::make_unique<FullLayer>(opts, n_heads, n_kv_heads, head_dim);
}

}  // namespace adamas::cpu
