// The backend whose layer attention the selftest holds to the CPU layer: its memory (inputs
// copied in, outputs copied back) and its layers. The CUDA target is the one users check; the
// CPU target (the CPU layer held to itself) lets the checks themselves be tested on any machine.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "attention/layer.h"
#include "attention/options.h"

namespace adamas::selftest {

class Target {
 public:
  virtual ~Target() = default;
  virtual Backend backend() const = 0;
  virtual std::string device_name() const = 0;
  // K and V of `heads` KV heads x `capacity` positions x D (host floats, each a float16 value;
  // head-major as LayerKV), copied into the target's memory; valid until the next load_kv.
  virtual LayerKV load_kv(const std::vector<float>& k, const std::vector<float>& v, int heads, int D,
                          int capacity) = 0;
  // q in the target's memory; valid until the next load_q.
  virtual const float* load_q(const std::vector<float>& q) = 0;
  // An output buffer of n floats in the target's memory, every element NaN (an element left
  // unwritten fails the comparison); valid until the next output().
  virtual float* output(size_t n) = 0;
  // The buffer of the last output(), on the host (after the work queued on it).
  virtual std::vector<float> read_output() = 0;
  virtual std::unique_ptr<LayerAttention> layer(const AttentionOptions& opts, int H, int KV, int D, int capacity) = 0;
  // A layer that steps lengths.size() sequences at once (sequence b's K/V at kv + b *
  // kv_batch_stride elements), every sequence's metadata appended over the capacity and its
  // length set to lengths[b]; nullptr when the target's layers take one sequence.
  virtual std::unique_ptr<LayerAttention> batch_layer(const AttentionOptions& opts, int H, int KV, int D,
                                                      const LayerKV& kv, int capacity, int64_t kv_batch_stride,
                                                      const std::vector<int>& lengths) = 0;
};

std::unique_ptr<Target> make_cpu_target();
// The CUDA target on the current device; nullptr, with *why saying why, when this build has no
// CUDA backend or the machine no CUDA device.
std::unique_ptr<Target> make_cuda_target(std::string* why);

}  // namespace adamas::selftest
