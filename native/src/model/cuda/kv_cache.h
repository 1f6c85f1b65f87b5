// The KV cache on the device: post-RoPE keys and values in fp16, one K and one V allocation a
// layer, head-major [n_kv_heads][capacity][D] as the attention kernels read them (LayerKV,
// DeviceKV: head_stride = capacity * D). The engine tracks how many positions are filled.
#pragma once
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <vector>

#include "attention/cuda/decode.h"
#include "attention/layer.h"
#include "model/cuda/memory.h"

namespace adamas::cuda {

class DeviceKVCache {
 public:
  DeviceKVCache(int n_layers, int n_kv_heads, int head_dim);

  int capacity() const { return capacity_; }
  int64_t head_stride() const { return int64_t(capacity_) * D_; }
  // K and V of every layer for one position.
  size_t bytes_per_position() const { return size_t(2) * k_.size() * KV_ * D_ * sizeof(__half); }

  // Reallocates for `capacity` positions (> capacity()), keeping the first `keep` of every layer,
  // one layer at a time so that at most one old layer is held beside the new cache. Throws
  // InvalidArgument naming the bytes needed and free when it does not fit (before changing anything).
  void grow(int capacity, int keep, cudaStream_t stream);

  __half* k(int layer) const { return k_[layer].as<__half>(); }
  __half* v(int layer) const { return v_[layer].as<__half>(); }
  LayerKV layer(int l) const { return LayerKV{k(l), v(l), head_stride(), KV_, D_}; }
  DeviceKV device(int l) const { return DeviceKV{k(l), v(l), head_stride(), KV_, D_}; }

 private:
  int KV_, D_;
  int capacity_ = 0;
  std::vector<DeviceBuffer> k_, v_;
};

}  // namespace adamas::cuda
