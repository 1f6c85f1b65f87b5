#include "bench/timer.h"

#include <chrono>

namespace adamas::bench {

namespace {

class CpuTimer final : public PhaseTimer {
 public:
  double cold(const std::function<void()>& work) override { return hot(work, 1); }

  double hot(const std::function<void()>& work, int batch) override {
    const Clock::time_point t0 = Clock::now();
    for (int i = 0; i < batch; ++i) work();
    return std::chrono::duration<double>(Clock::now() - t0).count() / batch;
  }

  void sync() override {}

 private:
  using Clock = std::chrono::steady_clock;
};

}  // namespace

std::unique_ptr<PhaseTimer> make_cpu_timer() { return std::make_unique<CpuTimer>(); }

PhaseSamples sample_phase(PhaseTimer& timer, const StoppingRule& rule, int batch, const std::function<void()>& work) {
  work();  // warm-up (first touch, module load, scratch that grows once)
  timer.sync();
  PhaseSamples s;
  s.cold = collect_samples(rule, [&] { return timer.cold(work); });
  if (batch > 0) s.hot = collect_samples(rule, [&] { return timer.hot(work, batch); });
  return s;
}

}  // namespace adamas::bench
