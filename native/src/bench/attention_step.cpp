#include "bench/attention_step.h"

#include <chrono>
#include <cstring>
#include <random>
#include <vector>

#include "common/cuda_status.h"
#include "common/error.h"
#include "common/host.h"

#ifdef ADAMAS_WITH_CUDA
#include "bench/cuda/attention_step.h"
#endif

namespace adamas::bench {

namespace {

class CpuBenchBackend final : public BenchBackend {
 public:
  Backend backend() const override { return Backend::Cpu; }
  std::string device_name() const override { return cpu_model_name(); }

  // memcpy of 256 MiB, the median of 5
  double copy_bandwidth_gbs() override {
    static const double gbs = [] {
      using Clock = std::chrono::steady_clock;
      const size_t bytes = size_t(256) << 20;
      std::vector<char> a(bytes, 1), b(bytes, 2);
      Samples s;
      for (int i = 0; i < 5; ++i) {
        const Clock::time_point t0 = Clock::now();
        std::memcpy(b.data(), a.data(), bytes);
        s.us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
        a[i] = b[bytes - 1 - i];  // keep the copies observable
      }
      summarize(s);
      return 2.0 * bytes / (s.median_us * 1e-6) / 1e9;
    }();
    return gbs;
  }

  DeviceFacts facts() const override { return DeviceFacts{}; }

  StepInputs inputs(int H, int KV, int D, int n, int sequences, uint32_t seed) override {
    if (sequences != 1)
      throw InvalidArgument("sequences " + std::to_string(sequences) + ": batched steps are timed on the cuda backend");
    std::mt19937 rng(seed);
    std::normal_distribution<float> wide(0.0f, 8.0f), unit(0.0f, 1.0f);
    k_.resize(size_t(KV) * n * D);
    v_.resize(k_.size());
    q_.resize(size_t(H) * D);
    out_.resize(q_.size());
    for (float& x : k_) x = wide(rng);
    for (float& x : v_) x = unit(rng);
    for (float& x : q_) x = wide(rng);
    return StepInputs{LayerKV{k_.data(), v_.data(), int64_t(n) * D, KV, D}, 0, q_.data(), out_.data()};
  }

  PhaseTimer& timer() override { return *timer_; }

  std::unique_ptr<LayerAttention> layer(const AttentionOptions& opts, int H, int KV, int D, int capacity,
                                        const StepInputs&, const std::vector<int>&) override {
    return make_layer_attention(Backend::Cpu, opts, H, KV, D, capacity);
  }

 private:
  std::unique_ptr<PhaseTimer> timer_ = make_cpu_timer();
  std::vector<float> k_, v_, q_, out_;
};

}  // namespace

std::unique_ptr<BenchBackend> make_bench_backend(const std::string& name) {
  if (name == "cpu") return std::make_unique<CpuBenchBackend>();
  if (name != "cuda") throw InvalidArgument("backend must be cpu, cuda or auto (got '" + name + "')");
#ifdef ADAMAS_WITH_CUDA
  const CudaStatus status = cuda_status();
  if (status.devices.empty()) throw InvalidArgument("backend 'cuda' cannot run here: " + status.error);
  return cuda::make_cuda_bench_backend();
#else
  throw InvalidArgument("backend 'cuda' is not available: this build has no CUDA backend");
#endif
}

}  // namespace adamas::bench
