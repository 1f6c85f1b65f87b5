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
//
// Batches: with batch > 1 the layer steps that many sequences at once (the benchmark's batched
// steps; the engine uses 1): sequence b's cache is the LayerKV's plus b * kv_batch_stride
// elements, q and out hold [batch][n_heads][D], every sequence's metadata has the capacity.
// CUDA graphs: after set_device_length(n_device), every phase reads the length of sequence b
// from n_device[b] when it runs; the n the phases are given then only has to have the same
// sparse(n) as the lengths replayed. Grids are sized from the capacity, positions past the
// length idle cheaply, and an append of one position writes position n_device[b] - 1 (the
// step's token), so a step captured once replays at any length. selection(), selected_mass()
// and use_selection() take one sequence with the host's n.
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
                 cudaStream_t stream, int batch = 1, int64_t kv_batch_stride = 0);

  // Lengths read from device memory (n_device[b], the current token included) from now on;
  // nullptr: the host's n again.
  void set_device_length(const int* n_device);

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
  int batch() const { return batch_; }

 private:
  enum class Lists { None, Selected, Given };  // what the step at listed_n_ attends to

  int rankers() const { return per_kv_ ? KV_ : H_; }
  int pages(int n) const { return (n - 1) / opts_.page_size; }  // complete pages before the current one
  DeviceKV device_kv(const LayerKV& kv) const;
  SeqLengths lengths(int n) const { return SeqLengths{n_device_, n}; }
  int max_length(int n) const { return n_device_ ? capacity_ : n; }  // bounds every length the kernels see
  void check_length(const char* phase, int n) const;
  void check_listed(const char* phase, int n) const;
  void check_one_sequence(const char* what) const;
  // The selected lists of the step as the attention reads them (not the window's).
  PositionLists lists(int n) const;
  // Every query head's positions at a sparse step of one sequence, on the device (selected_mass).
  PositionLists mass_lists(int n);

  cudaStream_t stream_;
  int H_, KV_, D_, group_, capacity_, batch_;
  int64_t kv_batch_;
  bool per_kv_;
  float scale_;
  AdamasCodes codes_params_;
  int page_cap_ = 0, bins_ = 0;
  int64_t score_stride_ = 0, dist_stride_ = 0, code_stride_ = 0;
  int length_ = 0;
  const int* n_device_ = nullptr;
  Lists listed_ = Lists::None;
  int listed_n_ = -1;
  DeviceArray<int32_t> idx_;                 // [batch][lists][budget] selected positions
  DeviceArray<int> list_len_;                // quest: [batch] positions of the selected lists
  Selection given_;                          // use_selection's lists, as given
  DeviceArray<int32_t> given_idx_;           // [n_heads][their length] on the device
  DeviceArray<__half> page_max_, page_min_;  // quest: [batch][KV][D][page_cap]
  DeviceArray<float> scores_;                // quest, oracle: [batch][rankers][score_stride]
  DeviceArray<uint8_t> codes_;               // adamas: [batch][KV][capacity][D / 4]
  DeviceArray<uint16_t> dist_;               // adamas: [batch][rankers][dist_stride]
  DeviceArray<int32_t> hist_;                // adamas: [batch][rankers][bins], zero at rest
  DeviceArray<int> est_done_;                // adamas: [batch][KV] distance blocks finished, zero at rest
  DeviceArray<AdamasCut> cuts_;              // adamas: [batch][rankers]
  DeviceArray<uint8_t> select_ws_;           // adamas_select's scratch, zero at rest
  DeviceArray<uint8_t> workspace_;           // decode attention
  DeviceArray<float> mass_;                  // [n_heads] selected_mass's result
};

// The CUDA layer attention behind make_layer_attention(Backend::Cuda, ...).
std::unique_ptr<adamas::LayerAttention> make_layer_attention(const AttentionOptions& opts, int n_heads,
                                                             int n_kv_heads, int head_dim, int capacity,
                                                             cudaStream_t stream);

// The CUDA layer attention itself (set_device_length, batches) behind make_layer_attention.
std::unique_ptr<LayerAttention> make_cuda_layer_attention(const AttentionOptions& opts, int n_heads, int n_kv_heads,
                                                          int head_dim, int capacity, cudaStream_t stream,
                                                          int batch = 1, int64_t kv_batch_stride = 0);

}  // namespace adamas::cuda
