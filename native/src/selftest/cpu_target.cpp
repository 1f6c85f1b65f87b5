// The CPU target: host buffers and the CPU layer attention (the selftest's own tests).
#include <limits>

#include "selftest/target.h"

namespace adamas::selftest {

namespace {

class CpuTarget final : public Target {
 public:
  Backend backend() const override { return Backend::Cpu; }
  std::string device_name() const override { return "cpu"; }
  LayerKV load_kv(const std::vector<float>& k, const std::vector<float>& v, int heads, int D, int capacity) override {
    k_ = k;
    v_ = v;
    return LayerKV{k_.data(), v_.data(), int64_t(capacity) * D, heads, D};
  }
  const float* load_q(const std::vector<float>& q) override {
    q_ = q;
    return q_.data();
  }
  float* output(size_t n) override {
    out_.assign(n, std::numeric_limits<float>::quiet_NaN());
    return out_.data();
  }
  std::vector<float> read_output() override { return out_; }
  std::unique_ptr<LayerAttention> layer(const AttentionOptions& opts, int H, int KV, int D, int capacity) override {
    return make_layer_attention(Backend::Cpu, opts, H, KV, D, capacity);
  }
  std::unique_ptr<LayerAttention> batch_layer(const AttentionOptions&, int, int, int, const LayerKV&, int, int64_t,
                                              const std::vector<int>&) override {
    return nullptr;
  }

 private:
  std::vector<float> k_, v_, q_, out_;
};

}  // namespace

std::unique_ptr<Target> make_cpu_target() { return std::make_unique<CpuTarget>(); }

}  // namespace adamas::selftest
