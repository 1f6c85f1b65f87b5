// What the step benchmark needs from a backend besides the layer attention it times: random
// inputs of a shape in the backend's memory, the backend's timer (bench/timer.h) and stream, and
// the device's name and copy bandwidth (the reference a report sets the phases' bandwidth against).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "attention/layer.h"
#include "bench/timer.h"

namespace adamas::bench {

// One layer's decode step of `sequences` sequences: K/V of n positions each (n_kv_heads x n x
// head_dim, head-major; sequence b's at kv + b * kv_batch_stride elements), the queries and the
// output ([sequences][n_heads][head_dim], float32), in the backend's memory.
struct StepInputs {
  LayerKV kv;
  int64_t kv_batch_stride = 0;
  const float* q = nullptr;
  float* out = nullptr;
};

// What the run's meta records about the device: driver and runtime versions, L2 bytes, and the
// PCI bus id by which NVML finds it ("" and zeros on the CPU).
struct DeviceFacts {
  std::string driver;  // e.g. "580.95.05" (NVML), else the CUDA driver API version
  int driver_version = 0, runtime_version = 0;
  int64_t l2_bytes = 0;
  std::string pci_bus_id;
};

class BenchBackend {
 public:
  virtual ~BenchBackend() = default;
  virtual Backend backend() const = 0;
  virtual std::string device_name() const = 0;
  // Bytes read + written per second by a copy far larger than the caches, in GB/s; measured once.
  virtual double copy_bandwidth_gbs() = 0;
  virtual DeviceFacts facts() const = 0;
  // Keys and queries N(0, 8) (spread over all four Adamas buckets of [-10, 0, 10]), values N(0, 1),
  // drawn from seed, for `sequences` sequences; valid until the next call.
  virtual StepInputs inputs(int n_heads, int n_kv_heads, int head_dim, int n, int sequences, uint32_t seed) = 0;
  virtual PhaseTimer& timer() = 0;
  // Queues the least work the backend can time (CUDA: one empty kernel), so that the phases can
  // be set against the timer's own floor; empty where there is no such floor (the CPU).
  virtual std::function<void()> empty_step() { return {}; }
  // The layer attention the step times: capacity positions a sequence; with sequences > 1 (or
  // device lengths wanted) it steps the inputs' sequences at once, of lengths lens.
  virtual std::unique_ptr<LayerAttention> layer(const AttentionOptions& opts, int n_heads, int n_kv_heads,
                                                int head_dim, int capacity, const StepInputs& in,
                                                const std::vector<int>& lens) = 0;
};

// The backend named "cpu" or "cuda" (InvalidArgument when it cannot run here, saying why).
std::unique_ptr<BenchBackend> make_bench_backend(const std::string& name);

}  // namespace adamas::bench
