// KV cache: post-RoPE keys and values of every layer, head-major [layer][kv_head][position][D],
// so one head's keys are contiguous for the attention kernels. Float32 storage; with round_f16
// every stored key and value is first rounded to the nearest fp16 (round to nearest even), so the
// cache holds exactly the values an fp16 cache would.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tensor/half.h"

namespace adamas {

// One layer's cache as the attention code sees it.
struct KVView {
  const float* k = nullptr;
  const float* v = nullptr;
  int n_kv_heads = 0;
  int head_dim = 0;
  int64_t head_stride = 0;  // floats between heads (capacity * head_dim)
  int length = 0;           // tokens present, the current one included

  const float* keys(int kvh) const { return k + kvh * head_stride; }
  const float* values(int kvh) const { return v + kvh * head_stride; }
  const float* key(int kvh, int pos) const { return keys(kvh) + int64_t(pos) * head_dim; }
  const float* value(int kvh, int pos) const { return values(kvh) + int64_t(pos) * head_dim; }
};

class KVCache {
 public:
  KVCache(int n_layers, int n_kv_heads, int head_dim, bool round_f16 = false)
      : n_kv_(n_kv_heads), d_(head_dim), round_f16_(round_f16), k_(n_layers), v_(n_layers) {}

  int length() const { return length_; }
  bool round_f16() const { return round_f16_; }
  int capacity() const { return capacity_; }
  void clear() { length_ = 0; }
  void set_length(int n) { length_ = n; }

  // Makes room for n tokens in all, keeping what is stored (grows geometrically).
  void reserve(int n) {
    if (n <= capacity_) return;
    int cap = capacity_ ? capacity_ : 256;
    while (cap < n) cap *= 2;
    for (std::size_t l = 0; l < k_.size(); ++l) {
      regrow(k_[l], cap);
      regrow(v_[l], cap);
    }
    capacity_ = cap;
  }

  // Stores the keys and values ([n_kv][D] each) of one token of one layer at `pos` (rounded to
  // fp16 with round_f16).
  void write(int layer, int pos, const float* k, const float* v) {
    for (int h = 0; h < n_kv_; ++h) {
      float* kd = &k_[layer][(int64_t(h) * capacity_ + pos) * d_];
      float* vd = &v_[layer][(int64_t(h) * capacity_ + pos) * d_];
      if (round_f16_) {
        for (int i = 0; i < d_; ++i) {
          kd[i] = round_to_f16(k[h * d_ + i]);
          vd[i] = round_to_f16(v[h * d_ + i]);
        }
      } else {
        for (int i = 0; i < d_; ++i) {
          kd[i] = k[h * d_ + i];
          vd[i] = v[h * d_ + i];
        }
      }
    }
  }

  KVView view(int layer, int length) const {
    return KVView{k_[layer].data(), v_[layer].data(), n_kv_, d_, int64_t(capacity_) * d_, length};
  }

 private:
  void regrow(std::vector<float>& buf, int cap) {
    std::vector<float> next(std::size_t(n_kv_) * cap * d_);
    for (int h = 0; h < n_kv_ && capacity_ > 0; ++h)
      std::copy(buf.begin() + int64_t(h) * capacity_ * d_, buf.begin() + (int64_t(h) * capacity_ + length_) * d_,
                next.begin() + int64_t(h) * cap * d_);
    buf.swap(next);
  }

  int n_kv_, d_;
  bool round_f16_;
  int length_ = 0, capacity_ = 0;
  std::vector<std::vector<float>> k_, v_;
};

}  // namespace adamas
