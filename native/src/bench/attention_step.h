// What the step benchmark needs from a backend besides the layer attention it times: random
// inputs of a shape in the backend's memory, the backend's timer (bench/timer.h) and stream, and
// the device's name and copy bandwidth (the reference a report sets the phases' bandwidth against).
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "attention/layer.h"
#include "bench/timer.h"

namespace adamas::bench {

// One layer's decode step: K/V of n positions (n_kv_heads x n x head_dim, head-major), the
// queries and the output (n_heads x head_dim, float32), in the backend's memory.
struct StepInputs {
  LayerKV kv;
  const float* q = nullptr;
  float* out = nullptr;
};

class BenchBackend {
 public:
  virtual ~BenchBackend() = default;
  virtual Backend backend() const = 0;
  virtual std::string device_name() const = 0;
  // Bytes read + written per second by a copy far larger than the caches, in GB/s; measured once.
  virtual double copy_bandwidth_gbs() = 0;
  // Keys and queries N(0, 8) (spread over all four Adamas buckets of [-10, 0, 10]), values N(0, 1),
  // drawn from seed; valid until the next call.
  virtual StepInputs inputs(int n_heads, int n_kv_heads, int head_dim, int n, uint32_t seed) = 0;
  virtual PhaseTimer& timer() = 0;
  // What make_layer_attention takes as the stream (nullptr on the CPU).
  virtual void* stream() = 0;
};

// The backend named "cpu" or "cuda" (InvalidArgument when it cannot run here, saying why).
std::unique_ptr<BenchBackend> make_bench_backend(const std::string& name);

}  // namespace adamas::bench
