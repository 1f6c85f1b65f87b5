// The CUDA target: fp16 K/V and float32 q/out in device memory, the CUDA layer attention on the
// default stream (copies to and from the host synchronise with it). Plain C++ over the CUDA
// runtime API; without the CUDA backend it only says so.
#include "selftest/target.h"

#ifdef ADAMAS_WITH_CUDA
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "attention/cuda/layer.h"
#include "common/cuda/buffer.h"
#include "common/cuda/check.h"
#endif
#include "common/cuda_status.h"

namespace adamas::selftest {

#ifdef ADAMAS_WITH_CUDA
namespace {

class CudaTarget final : public Target {
 public:
  explicit CudaTarget(std::string name) : name_(std::move(name)) {}
  Backend backend() const override { return Backend::Cuda; }
  std::string device_name() const override { return name_; }

  LayerKV load_kv(const std::vector<float>& k, const std::vector<float>& v, int heads, int D, int capacity) override {
    k_ = cuda::DeviceArray<__half>(to_half(k));
    v_ = cuda::DeviceArray<__half>(to_half(v));
    return LayerKV{k_.get(), v_.get(), int64_t(capacity) * D, heads, D};
  }
  const float* load_q(const std::vector<float>& q) override {
    if (q_.size() != q.size()) q_ = cuda::DeviceArray<float>(q.size());
    q_.upload(q);
    return q_.get();
  }
  float* output(size_t n) override {
    if (out_.size() != n) out_ = cuda::DeviceArray<float>(n);
    out_.fill_bytes(0xff);  // NaN
    return out_.get();
  }
  std::vector<float> read_output() override {
    ADAMAS_CUDA_CHECK(cudaDeviceSynchronize());
    return out_.download();
  }
  std::unique_ptr<LayerAttention> layer(const AttentionOptions& opts, int H, int KV, int D, int capacity) override {
    return make_layer_attention(Backend::Cuda, opts, H, KV, D, capacity, nullptr);
  }
  std::unique_ptr<LayerAttention> batch_layer(const AttentionOptions& opts, int H, int KV, int D, const LayerKV& kv,
                                              int capacity, int64_t kv_batch_stride,
                                              const std::vector<int>& lengths) override {
    auto l = cuda::make_cuda_layer_attention(opts, H, KV, D, capacity, nullptr, int(lengths.size()), kv_batch_stride);
    l->append(kv, 0, capacity);
    lengths_ = cuda::DeviceArray<int>(lengths);
    l->set_device_length(lengths_.get());
    return l;
  }

 private:
  static std::vector<__half> to_half(const std::vector<float>& x) {
    std::vector<__half> h(x.size());
    for (size_t i = 0; i < x.size(); ++i) h[i] = __float2half_rn(x[i]);
    return h;
  }

  std::string name_;
  cuda::DeviceArray<__half> k_, v_;
  cuda::DeviceArray<float> q_, out_;
  cuda::DeviceArray<int> lengths_;
};

}  // namespace
#endif

std::unique_ptr<Target> make_cuda_target(std::string* why) {
  const CudaStatus cs = cuda_status();
  if (!cs.built || cs.devices.empty()) {
    *why = !cs.error.empty() ? cs.error : cs.built ? "no CUDA device is visible" : "this build has no CUDA backend";
    return nullptr;
  }
#ifdef ADAMAS_WITH_CUDA
  int device = 0;
  ADAMAS_CUDA_CHECK(cudaGetDevice(&device));
  for (const CudaDevice& d : cs.devices)
    if (d.index == device) return std::make_unique<CudaTarget>(d.name);
  return std::make_unique<CudaTarget>(cs.devices.front().name);
#else
  *why = "this build has no CUDA backend";
  return nullptr;
#endif
}

}  // namespace adamas::selftest
