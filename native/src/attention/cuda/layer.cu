#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "attention/cuda/dispatch.cuh"
#include "attention/cuda/layer.h"
#include "attention/cuda/oracle.h"
#include "attention/cuda/quest.h"
#include "attention/cuda/recall.h"
#include "attention/cuda/topk.h"

namespace adamas::cuda {

namespace {

// StreamingLLM's positions at length n (the window the attention kernel computes).
std::vector<int32_t> window_positions(int n, int budget, int sink) {
  std::vector<int32_t> p;
  const int s = std::min(sink, budget - 1);
  for (int t = 0; t < n; ++t)
    if (budget >= n || t < s || t >= n - (budget - s)) p.push_back(t);
  return p;
}

}  // namespace

LayerAttention::LayerAttention(const AttentionOptions& opts, int n_heads, int n_kv_heads, int head_dim, int capacity,
                               cudaStream_t stream, int batch, int64_t kv_batch_stride)
    : adamas::LayerAttention(opts),
      stream_(stream),
      H_(n_heads),
      KV_(n_kv_heads),
      D_(head_dim),
      group_(n_kv_heads > 0 ? n_heads / n_kv_heads : 0),
      capacity_(capacity),
      batch_(batch),
      kv_batch_(kv_batch_stride),
      per_kv_(opts.gqa == GqaSelection::PerKvHead),
      scale_(1.0f / std::sqrt(float(head_dim))) {
  auto fail = [](const std::string& msg) { throw InvalidArgument("CUDA attention: " + msg); };
  if (n_kv_heads < 1 || n_heads % n_kv_heads != 0 || capacity < 1)
    fail(std::to_string(n_heads) + " heads, " + std::to_string(n_kv_heads) + " KV heads and capacity " +
         std::to_string(capacity) + " do not form a valid layout");
  if (head_dim != 64 && head_dim != 128) unsupported("head_dim", head_dim, "64, 128");
  if (group_ > 8) unsupported("GQA group size (query heads per KV head)", group_, "1 to 8");
  if (batch < 1 || batch > kMaxDecodeBatch) unsupported("batch (sequences stepped together)", batch, "1 to 64");
  if (batch > 1 && (kv_batch_stride % 8 != 0 || kv_batch_stride < int64_t(n_kv_heads) * capacity * head_dim))
    fail("a batch's caches must not overlap and keep 16-byte alignment (KV batch stride " +
         std::to_string(kv_batch_stride) + ")");
  const Method m = opts.method;
  if (m != Method::Full && opts.budget < 1) fail("budget must be >= 1 (got " + std::to_string(opts.budget) + ")");
  if (m == Method::Quest && opts.budget < opts.page_size)
    fail("budget " + std::to_string(opts.budget) + " is smaller than the page size " + std::to_string(opts.page_size));
  if (m == Method::Adamas) {
    if (opts.bits != 2) unsupported("Adamas code bits", opts.bits, "2");
    if (opts.granularity != Granularity::Token) fail("Adamas page granularity is CPU-only");
    if (opts.auto_thresholds) fail("fitted Adamas thresholds ('auto') are CPU-only");
    if (!opts.thresholds.empty() && opts.thresholds.size() != 3)
      fail("2-bit codes need 3 thresholds (got " + std::to_string(opts.thresholds.size()) + ")");
    for (size_t i = 0; i < opts.thresholds.size(); ++i) codes_params_.thresholds[i] = opts.thresholds[i];
    codes_params_.hadamard = opts.hadamard;
  }

  workspace_ = DeviceArray<uint8_t>(decode_workspace_bytes(H_, D_));
  workspace_.fill_bytes(0, stream_);
  mass_ = DeviceArray<float>(size_t(H_));
  const size_t B = size_t(batch);
  if (m == Method::Full || m == Method::Streaming) return;  // the window is computed in the attention kernel
  idx_ = DeviceArray<int32_t>(B * rankers() * opts.budget);
  if (m == Method::Quest) {
    page_cap_ = quest_page_capacity(capacity, opts.page_size);
    score_stride_ = round_up(page_cap_, 4);
    page_max_ = DeviceArray<__half>(B * KV_ * D_ * page_cap_);
    page_min_ = DeviceArray<__half>(B * KV_ * D_ * page_cap_);
    scores_ = DeviceArray<float>(B * rankers() * score_stride_);
    list_len_ = DeviceArray<int>(B);
    page_max_.fill_bytes(0, stream_);
    page_min_.fill_bytes(0, stream_);
  } else if (m == Method::Oracle) {
    score_stride_ = round_up(capacity, 4);
    scores_ = DeviceArray<float>(B * rankers() * score_stride_);
  } else if (m == Method::Adamas) {
    code_stride_ = int64_t(capacity) * adamas_code_bytes(D_);
    dist_stride_ = round_up(capacity, 8);
    bins_ = adamas_distance_bins(D_, opts.distance, per_kv_ ? group_ : 1);
    codes_ = DeviceArray<uint8_t>(B * KV_ * code_stride_);
    dist_ = DeviceArray<uint16_t>(B * rankers() * dist_stride_);
    hist_ = DeviceArray<int32_t>(B * rankers() * bins_);
    est_done_ = DeviceArray<int>(B * KV_);
    cuts_ = DeviceArray<AdamasCut>(B * rankers());
    select_ws_ = DeviceArray<uint8_t>(adamas_select_scratch_bytes(rankers(), capacity, batch));
    codes_.fill_bytes(0, stream_);
    dist_.fill_bytes(0, stream_);
    hist_.fill_bytes(0, stream_);
    est_done_.fill_bytes(0, stream_);
    select_ws_.fill_bytes(0, stream_);
  }
}

void LayerAttention::set_device_length(const int* n_device) { n_device_ = n_device; }

void LayerAttention::check_one_sequence(const char* what) const {
  if (batch_ != 1)
    throw std::logic_error(std::string("CUDA attention: ") + what + " takes one sequence (this layer steps " +
                           std::to_string(batch_) + ")");
}

DeviceKV LayerAttention::device_kv(const LayerKV& kv) const {
  if (kv.n_kv_heads != KV_ || kv.head_dim != D_)
    throw std::logic_error("CUDA attention: a cache of " + std::to_string(kv.n_kv_heads) + " KV heads x " +
                           std::to_string(kv.head_dim) + " for a layer of " + std::to_string(KV_) + " x " +
                           std::to_string(D_));
  return DeviceKV{static_cast<const __half*>(kv.k), static_cast<const __half*>(kv.v), kv.head_stride, KV_, D_};
}

void LayerAttention::check_length(const char* phase, int n) const {
  if (n_device_) return;  // the device's lengths are the truth; n only decides sparse(n)
  if (n != length_)
    throw std::logic_error(std::string("CUDA attention: ") + phase + " at length " + std::to_string(n) + " but " +
                           std::to_string(length_) + " positions were appended");
}

void LayerAttention::check_listed(const char* phase, int n) const {
  // under device lengths a captured select() serves every replayed length
  if (listed_ == Lists::None || (listed_n_ != n && !(n_device_ && listed_ == Lists::Selected)))
    throw std::logic_error(std::string("CUDA attention: ") + phase + " at length " + std::to_string(n) +
                           " without select() or use_selection() at it");
}

void LayerAttention::append(const LayerKV& lkv, int pos, int n) {
  const DeviceKV kv = device_kv(lkv);
  const bool at_device_length = n_device_ && n == 1;  // the step's token, at n_device[b] - 1
  if ((!at_device_length && pos != length_) || n < 0 || pos + n > capacity_)
    throw InvalidArgument("CUDA attention: append of [" + std::to_string(pos) + ", " + std::to_string(pos + n) +
                          ") after " + std::to_string(length_) + " positions (capacity " + std::to_string(capacity_) +
                          ")");
  if (n == 0) return;
  const int first = at_device_length ? -1 : pos;
  const int* pos_dev = at_device_length ? n_device_ : nullptr;
  if (opts_.method == Method::Quest)
    ADAMAS_CUDA_CHECK(quest_update_bounds(page_max_.get(), page_min_.get(), page_cap_, kv, opts_.page_size, first, n,
                                          stream_, pos_dev, batch_, kv_batch_, int64_t(KV_) * D_ * page_cap_));
  if (opts_.method == Method::Adamas)
    ADAMAS_CUDA_CHECK(adamas_encode_keys(codes_.get(), code_stride_, kv, first, n, codes_params_, stream_, pos_dev,
                                         batch_, kv_batch_, KV_ * code_stride_));
  length_ = std::max(length_, pos + n);
}

void LayerAttention::estimate(const float* q, const LayerKV& kv, int n) {
  if (!sparse(n)) return;
  check_length("estimate", n);
  const int64_t q_stride = int64_t(H_) * D_;
  const int max_n = max_length(n);
  if (opts_.method == Method::Oracle)
    ADAMAS_CUDA_CHECK(oracle_scores(scores_.get(), score_stride_, q, device_kv(kv), H_, lengths(n), max_n, per_kv_,
                                    batch_, q_stride, kv_batch_, rankers() * score_stride_, stream_));
  if (opts_.method == Method::Quest)
    ADAMAS_CUDA_CHECK(quest_page_scores(scores_.get(), score_stride_, q, page_max_.get(), page_min_.get(), page_cap_,
                                        H_, KV_, D_, lengths(n), max_n, opts_.page_size, per_kv_,
                                        QuestBatch{batch_, q_stride, int64_t(KV_) * D_ * page_cap_,
                                                   rankers() * score_stride_},
                                        stream_));
  if (opts_.method == Method::Adamas)
    ADAMAS_CUDA_CHECK(adamas_distances(dist_.get(), dist_stride_, AdamasScratch{hist_.get(), est_done_.get(), cuts_.get()},
                                       q, codes_.get(), code_stride_, H_, KV_, D_, lengths(n), max_n,
                                       opts_.budget - 1, per_kv_, opts_.distance, codes_params_,
                                       AdamasBatch{batch_, q_stride, KV_ * code_stride_, rankers() * dist_stride_},
                                       stream_));
}

void LayerAttention::select(int n) {
  if (!sparse(n)) return;
  check_length("select", n);
  const int B = opts_.budget, max_n = max_length(n);
  const int64_t idx_batch = int64_t(rankers()) * B;
  switch (opts_.method) {
    case Method::Streaming: break;  // the attention kernel computes the window
    case Method::Quest:
      ADAMAS_CUDA_CHECK(quest_select(idx_.get(), B, idx_batch, scores_.get(), score_stride_, rankers() * score_stride_,
                                     rankers(), lengths(n), max_n, B / opts_.page_size - 1, opts_.page_size,
                                     list_len_.get(), batch_, stream_));
      break;
    case Method::Adamas:
      ADAMAS_CUDA_CHECK(adamas_select(idx_.get(), B, idx_batch, dist_.get(), dist_stride_, rankers() * dist_stride_,
                                      cuts_.get(), select_ws_.get(), rankers(), lengths(n), max_n, batch_, B - 1,
                                      stream_));
      break;
    case Method::Oracle:
      ADAMAS_CUDA_CHECK(oracle_select(idx_.get(), B, idx_batch, scores_.get(), score_stride_, rankers() * score_stride_,
                                      rankers(), lengths(n), B - 1, batch_, stream_));
      break;
    case Method::Full: break;
  }
  listed_ = Lists::Selected;
  listed_n_ = n;
}

void LayerAttention::use_selection(const Selection& sel, int n) {
  if (!sparse(n)) return;
  check_one_sequence("use_selection");
  check_length("use_selection", n);
  if (sel.heads.size() != size_t(H_))
    throw InvalidArgument("use_selection: " + std::to_string(sel.heads.size()) + " lists for " + std::to_string(H_) +
                          " query heads");
  const size_t len = sel.heads[0].size();
  for (int h = 0; h < H_; ++h) {
    const std::vector<int32_t>& s = sel.heads[h];
    if (s.empty()) throw InvalidArgument("use_selection: the list of head " + std::to_string(h) + " is empty");
    if (s.size() != len)
      throw InvalidArgument("CUDA attention: use_selection needs lists of one length (head 0: " + std::to_string(len) +
                            ", head " + std::to_string(h) + ": " + std::to_string(s.size()) + ")");
    for (size_t i = 0; i < s.size(); ++i)
      if (s[i] < 0 || s[i] >= n || (i > 0 && s[i] <= s[i - 1]))
        throw InvalidArgument("use_selection: head " + std::to_string(h) + " lists position " + std::to_string(s[i]) +
                              " at index " + std::to_string(i) + "; positions must ascend within [0, " +
                              std::to_string(n) + ")");
  }
  std::vector<int32_t> flat;
  flat.reserve(size_t(H_) * len);
  for (const std::vector<int32_t>& s : sel.heads) flat.insert(flat.end(), s.begin(), s.end());
  ADAMAS_CUDA_CHECK(cudaStreamSynchronize(stream_));  // an earlier step may still read the old lists
  if (given_idx_.size() < flat.size()) given_idx_ = DeviceArray<int32_t>(flat.size());
  // from pageable memory: returns once `flat` is staged, so it may go out of scope
  ADAMAS_CUDA_CHECK(cudaMemcpyAsync(given_idx_.get(), flat.data(), flat.size() * sizeof(int32_t),
                                    cudaMemcpyHostToDevice, stream_));
  given_ = sel;
  listed_ = Lists::Given;
  listed_n_ = n;
}

PositionLists LayerAttention::lists(int n) const {
  if (listed_ == Lists::Given) {
    const int len = int(given_.heads[0].size());
    return PositionLists{given_idx_.get(), len, 0, SeqLengths{nullptr, len}, 1};
  }
  const int B = opts_.budget;
  // quest's lists end with the current page, whose length the selection wrote per sequence
  const SeqLengths len = opts_.method == Method::Quest ? SeqLengths{list_len_.get(), B} : SeqLengths{nullptr, B};
  return PositionLists{idx_.get(), B, int64_t(rankers()) * B, len, per_kv_ ? group_ : 1};
}

PositionLists LayerAttention::mass_lists(int n) {
  if (opts_.method != Method::Streaming || (listed_ == Lists::Given && listed_n_ == n)) {
    PositionLists l = lists(n);
    l.len = SeqLengths{nullptr, listed_ == Lists::Given ? l.len.n : list_length(n)};
    return l;
  }
  const std::vector<int32_t> window = window_positions(n, opts_.budget, opts_.sink);
  if (given_idx_.size() < window.size()) given_idx_ = DeviceArray<int32_t>(window.size());
  ADAMAS_CUDA_CHECK(cudaMemcpyAsync(given_idx_.get(), window.data(), window.size() * sizeof(int32_t),
                                    cudaMemcpyHostToDevice, stream_));
  return PositionLists{given_idx_.get(), 0, 0, SeqLengths{nullptr, int(window.size())}, group_};
}

void LayerAttention::attend(float* out, const float* q, const LayerKV& lkv, int n) {
  const DeviceKV kv = device_kv(lkv);
  const DecodeBatch batch{batch_, int64_t(H_) * D_, kv_batch_};
  if (!sparse(n)) {
    ADAMAS_CUDA_CHECK(decode_attention(out, q, kv, H_, lengths(n), batch, scale_, workspace_.get(), stream_));
    return;
  }
  if (opts_.method == Method::Streaming && !(listed_ == Lists::Given && listed_n_ == n)) {
    const SinkWindow w{opts_.budget, opts_.sink, lengths(n)};
    ADAMAS_CUDA_CHECK(window_decode_attention(out, q, kv, H_, w, batch, scale_, workspace_.get(), stream_));
    return;
  }
  check_listed("attend", n);
  ADAMAS_CUDA_CHECK(sparse_decode_attention(out, q, kv, H_, lists(n), batch, scale_, workspace_.get(), stream_));
}

void LayerAttention::selected_mass(float* mass, const float* q, const LayerKV& lkv, int n) {
  check_one_sequence("selected_mass");
  const DeviceKV kv = device_kv(lkv);
  if (sparse(n)) {
    if (opts_.method != Method::Streaming) check_listed("selected_mass", n);
    const PositionLists l = mass_lists(n);
    ADAMAS_CUDA_CHECK(cuda::selected_mass(mass_.get(), q, kv, H_, n, l.idx, l.list_stride, l.len.n, l.heads_per_list,
                                          scale_, stream_));
  } else {
    ADAMAS_CUDA_CHECK(cuda::selected_mass(mass_.get(), q, kv, H_, n, nullptr, 0, 0, 1, scale_, stream_));
  }
  ADAMAS_CUDA_CHECK(cudaMemcpyAsync(mass, mass_.get(), sizeof(float) * size_t(H_), cudaMemcpyDeviceToHost, stream_));
  ADAMAS_CUDA_CHECK(cudaStreamSynchronize(stream_));
}

int LayerAttention::list_length(int n) const {
  if (!sparse(n)) return n;
  if (opts_.method == Method::Quest) {
    const int P = opts_.page_size;
    return (opts_.budget / P - 1) * P + n - pages(n) * P;
  }
  return opts_.budget;
}

Selection LayerAttention::selection(int n) const {
  Selection sel;
  sel.heads.resize(size_t(H_));
  if (!sparse(n)) {
    for (std::vector<int32_t>& s : sel.heads)
      for (int t = 0; t < n; ++t) s.push_back(t);
    return sel;
  }
  check_one_sequence("selection");
  if (listed_ == Lists::Given && listed_n_ == n) return given_;
  if (opts_.method == Method::Streaming) {
    const std::vector<int32_t> window = window_positions(n, opts_.budget, opts_.sink);
    for (std::vector<int32_t>& s : sel.heads) s = window;
    return sel;
  }
  check_listed("selection", n);
  ADAMAS_CUDA_CHECK(cudaStreamSynchronize(stream_));
  const std::vector<int32_t> all = idx_.download();
  const int len = list_length(n);
  for (int h = 0; h < H_; ++h) {
    const int list = per_kv_ ? h / group_ : h;
    const int32_t* first = &all[size_t(list) * opts_.budget];
    sel.heads[h].assign(first, first + len);
  }
  return sel;
}

PhaseBytes LayerAttention::bytes(int n) const {
  PhaseBytes b;
  const double qo = 2 * 4.0 * H_ * D_;  // q read, out written (fp32)
  if (!sparse(n)) {
    b.attend = 2.0 * 2 * KV_ * double(n) * D_ + qo;  // fp16 K and V
    return b;
  }
  const double q = 4.0 * H_ * D_;
  const double out = 4.0 * list_length(n) * (opts_.method == Method::Streaming ? 1 : rankers());
  if (opts_.method == Method::Quest) {
    b.estimate = 2.0 * 2 * KV_ * D_ * pages(n) + 4.0 * rankers() * pages(n) + q;
    b.select = 4.0 * rankers() * pages(n) + out;
  } else if (opts_.method == Method::Adamas) {
    b.estimate =
        double(KV_) * (n - 1) * adamas_code_bytes(D_) + 2.0 * rankers() * (n - 1) + 4.0 * rankers() * bins_ + q;
    b.select = double(sizeof(AdamasCut)) * rankers() + 2.0 * rankers() * (n - 1) + out;
  } else if (opts_.method == Method::Oracle) {
    b.estimate = 2.0 * KV_ * double(n - 1) * D_ + q + 4.0 * rankers() * double(n - 1);
    b.select = 4.0 * rankers() * double(n - 1) + out;
  }
  if (opts_.method == Method::Streaming) {  // no lists: the attention computes the window
    b.attend = double(KV_) * list_length(n) * (2.0 * 2 * D_) + qo;
    return b;
  }
  b.attend = double(per_kv_ ? KV_ : H_) * list_length(n) * (2.0 * 2 * D_ + 4) + qo;
  return b;
}

std::unique_ptr<adamas::LayerAttention> make_layer_attention(const AttentionOptions& opts, int n_heads,
                                                             int n_kv_heads, int head_dim, int capacity,
                                                             cudaStream_t stream) {
  return std::make_unique<LayerAttention>(opts, n_heads, n_kv_heads, head_dim, capacity, stream);
}

std::unique_ptr<LayerAttention> make_cuda_layer_attention(const AttentionOptions& opts, int n_heads, int n_kv_heads,
                                                          int head_dim, int capacity, cudaStream_t stream, int batch,
                                                          int64_t kv_batch_stride) {
  return std::make_unique<LayerAttention>(opts, n_heads, n_kv_heads, head_dim, capacity, stream, batch,
                                          kv_batch_stride);
}

}  // namespace adamas::cuda
