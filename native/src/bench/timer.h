// The timing core, apart from what it times (NVBench's state.exec): a backend's clock for one
// run of some work, cold or hot, and a phase sampled under the stopping rule (sampler.h).
#pragma once
#include <functional>
#include <memory>

#include "bench/sampler.h"

namespace adamas::bench {

class PhaseTimer {
 public:
  virtual ~PhaseTimer() = default;
  // Seconds of one run of work, cold. CUDA: L2 flushed first and the launches queued behind a
  // blocking kernel, so neither a warm cache nor the host's launch cost is timed. CPU: one run
  // timed by the clock (caches are not flushed; the KV of the timed shapes exceeds them).
  virtual double cold(const std::function<void()>& work) = 0;
  // Seconds per run of work run `batch` times back to back (warm caches, launches overlapped).
  virtual double hot(const std::function<void()>& work, int batch) = 0;
  // Waits until the work queued so far has run.
  virtual void sync() = 0;
};

// std::chrono's steady clock around the work.
std::unique_ptr<PhaseTimer> make_cpu_timer();

struct PhaseSamples {
  Samples cold, hot;  // hot empty when batch is 0
};

// One warm-up run, then cold samples under the rule, then (batch > 0) hot samples under it.
PhaseSamples sample_phase(PhaseTimer& timer, const StoppingRule& rule, int batch, const std::function<void()>& work);

}  // namespace adamas::bench
