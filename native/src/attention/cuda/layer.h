// The CUDA LayerAttention (attention/layer.h): one layer's attention at a decode step on the GPU,
// for every method the kernels support. The method's metadata (Quest page bounds, Adamas key
// codes) is kept in step with the caller's fp16 KV cache; a step is estimate() (page scores or
// code distances), select() (top-k into position lists) and attend() (attention over the lists,
// or over everything), all on the stream given at construction, so each phase can be run, and
// timed, alone. Semantics: DESIGN.md "Methods", cpu/*.cpp.
// Supported: full, streaming, quest, oracle, and adamas with 2-bit codes, token granularity and
// fixed thresholds (L1 or L2, with or without the transform); GQA per query head or per KV head;
// head_dim 64 or 128; up to 8 query heads per KV head. Lists given to use_selection() must all
// have one length (the kernels read lists of one length; every method's lists have one).
#pragma once
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <memory>

#include "attention/cuda/adamas.h"
#include "attention/cuda/decode.h"
#include "attention/layer.h"
#include "attention/options.h"
#include "common/cuda/buffer.h"

namespace adamas::cuda {

class LayerAttention final : public adamas::LayerAttention {
 public:
  // capacity: the most positions the cache will hold. Throws InvalidArgument for what the CUDA
  // backend does not support, naming it.
  LayerAttention(const AttentionOptions& opts, int n_heads, int n_kv_heads, int head_dim, int capacity,
                 cudaStream_t stream);

  void append(const LayerKV& kv, int pos, int n) override;
  void prefill_done(const LayerKV&) override {}  // nothing is fitted on the GPU
  void estimate(const float* q, const LayerKV& kv, int n) override;
  void select(int n) override;
  // Synchronises the stream, then uploads the lists (a dense step ignores them).
  void use_selection(const Selection& sel, int n) override;
  void attend(float* out, const float* q, const LayerKV& kv, int n) override;
  Selection selection(int n) const override;
  void selected_mass(float* mass, const float* q, const LayerKV& kv, int n) override;
  PhaseBytes bytes(int n) const override;

  // Positions a list holds after select() at length n.
  int list_length(int n) const;
  cudaStream_t stream() const { return stream_; }

 private:
  enum class Lists { None, Selected, Given };  // what the step at listed_n_ attends to

  int rankers() const { return per_kv_ ? KV_ : H_; }
  int pages(int n) const { return (n - 1) / opts_.page_size; }  // complete pages before the current one
  DeviceKV device_kv(const LayerKV& kv) const;
  void check_length(const char* phase, int n) const;
  void check_listed(const char* phase, int n) const;
  // The lists of the step as the kernels read them: list l of head h = h / heads_per_list, at
  // idx + l * stride, `len` positions.
  struct ListView {
    const int32_t* idx;
    int64_t stride;
    int len;
    int heads_per_list;
  };
  ListView lists(int n) const;

  cudaStream_t stream_;
  int H_, KV_, D_, group_, capacity_;
  bool per_kv_;
  float scale_;
  AdamasCodes codes_params_;
  int page_cap_ = 0, bins_ = 0;
  int64_t score_stride_ = 0, dist_stride_ = 0, code_stride_ = 0;
  int length_ = 0;
  Lists listed_ = Lists::None;
  int listed_n_ = -1;
  DeviceArray<int32_t> idx_;                 // [lists][budget] selected positions
  Selection given_;                          // use_selection's lists, as given
  DeviceArray<int32_t> given_idx_;           // [n_heads][their length] on the device
  DeviceArray<__half> page_max_, page_min_;  // quest: [KV][D][page_cap]
  DeviceArray<float> scores_;                // quest, oracle: [rankers][score_stride]
  DeviceArray<uint8_t> codes_;               // adamas: [KV][capacity][D / 4]
  DeviceArray<uint16_t> dist_;               // adamas: [rankers][dist_stride]
  DeviceArray<int32_t> hist_;                // adamas: [rankers][bins]
  DeviceArray<uint8_t> workspace_;           // decode attention
  DeviceArray<float> mass_;                  // [n_heads] selected_mass's result
};

// The CUDA layer attention behind make_layer_attention(Backend::Cuda, ...).
std::unique_ptr<adamas::LayerAttention> make_layer_attention(const AttentionOptions& opts, int n_heads,
                                                             int n_kv_heads, int head_dim, int capacity,
                                                             cudaStream_t stream);

}  // namespace adamas::cuda
