// One layer's attention at a decode step on the GPU, for every method: the method's metadata
// (Quest page bounds, Adamas key codes) kept in step with the caller's fp16 KV cache, and the
// scratch of a step. A step is estimate() (page scores or code distances), select() (top-k into
// position lists) and attend() (attention over the lists, or over everything), on one stream;
// each phase can be run, and timed, alone. Semantics: DESIGN.md "Methods", cpu/*.cpp.
// The CUDA backend supports full, streaming, quest, and adamas with 2-bit codes, token
// granularity and fixed thresholds (L1 or L2, with or without the transform); GQA per query head
// or per KV head; head_dim 64 or 128; up to 8 query heads per KV head.
#pragma once
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "attention/cuda/adamas.h"
#include "attention/cuda/decode.h"
#include "attention/options.h"
#include "attention/layer.h"
#include "common/cuda/buffer.h"

namespace adamas::cuda {

class LayerAttention {
 public:
  // capacity: the most positions the cache will hold. Throws InvalidArgument for what the CUDA
  // backend does not support, naming it.
  LayerAttention(const AttentionOptions& opts, int n_heads, int n_kv_heads, int head_dim, int capacity);

  // Positions [pos, pos + n) of kv were written; pos is the length appended so far.
  void append(const DeviceKV& kv, int pos, int n, cudaStream_t stream);

  // The phases of the step at length n (the current token, at n - 1, included); q is the fp32
  // [n_heads][D] post-RoPE query on the device. Dense attention when !sparse(n).
  void estimate(const float* q, int n, cudaStream_t stream);
  void select(int n, cudaStream_t stream);
  void attend(float* out, const float* q, const DeviceKV& kv, int n, cudaStream_t stream);
  void step(float* out, const float* q, const DeviceKV& kv, int n, cudaStream_t stream) {
    estimate(q, n, stream);
    select(n, stream);
    attend(out, q, kv, n, stream);
  }

  bool sparse(int n) const { return opts_.method != Method::Full && n > opts_.budget; }
  // Positions a list holds after select() at length n.
  int list_length(int n) const;
  // Positions each query head attends to at length n, ascending (after select(); synchronises).
  Selection selection(int n, cudaStream_t stream) const;

  // Global-memory bytes each phase must move at length n (inputs read once, outputs written once).
  double estimate_bytes(int n) const;
  double select_bytes(int n) const;
  double attend_bytes(int n) const;

 private:
  int rankers() const { return per_kv_ ? KV_ : H_; }
  int pages(int n) const { return (n - 1) / opts_.page_size; }  // complete pages before the current one

  AttentionOptions opts_;
  int H_, KV_, D_, group_, capacity_;
  bool per_kv_;
  float scale_;
  AdamasCodes codes_params_;
  int page_cap_ = 0, bins_ = 0;
  int64_t score_stride_ = 0, dist_stride_ = 0, code_stride_ = 0;
  int length_ = 0;
  DeviceArray<int32_t> idx_;             // [lists][budget] selected positions
  DeviceArray<__half> page_max_, page_min_;  // quest: [KV][D][page_cap]
  DeviceArray<float> scores_;            // quest: [rankers][score_stride]
  DeviceArray<uint8_t> codes_;           // adamas: [KV][capacity][D / 4]
  DeviceArray<uint16_t> dist_;           // adamas: [rankers][dist_stride]
  DeviceArray<int32_t> hist_;            // adamas: [rankers][bins]
  DeviceArray<uint8_t> workspace_;       // decode attention
};

}  // namespace adamas::cuda
