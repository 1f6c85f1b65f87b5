#include <cuda_fp16.h>

#include <string>

#include "attention/cuda/layer.h"
#include "bench/clocks.h"
#include "bench/cuda/attention_step.h"
#include "bench/cuda/timer.h"
#include "common/cuda/buffer.h"
#include "common/cuda/hash_normal.cuh"

namespace adamas::cuda {

namespace {

template <class T>
__global__ void fill_normal(T* x, size_t n, uint64_t seed, float sd) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    x[i] = T(sd * hash_normal(seed, i));
}

__global__ void empty_kernel() {}

template <class T>
void fill(DeviceArray<T>& a, uint64_t seed, float sd, cudaStream_t s) {
  fill_normal<<<1024, 256, 0, s>>>(a.get(), a.size(), seed, sd);
  ADAMAS_CUDA_CHECK(cudaGetLastError());
}

// Random inputs, kept while consecutive cases share the shape (a sweep over budgets and methods).
struct Inputs {
  int H = 0, KV = 0, D = 0, n = 0, sequences = 0;
  uint32_t seed = 0;
  DeviceArray<__half> k, v;
  DeviceArray<float> q, out;
};

class CudaBenchBackend final : public bench::BenchBackend {
 public:
  Backend backend() const override { return Backend::Cuda; }

  std::string device_name() const override {
    int dev = 0;
    cudaDeviceProp prop;
    ADAMAS_CUDA_CHECK(cudaGetDevice(&dev));
    ADAMAS_CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
    return prop.name;
  }

  // cudaMemcpyAsync of 512 MiB device to device, the median of 10 after a warm-up
  double copy_bandwidth_gbs() override {
    static const double gbs = [] {
      const size_t bytes = size_t(512) << 20;
      DeviceArray<uint8_t> a(bytes), b(bytes);
      a.fill_bytes(1);
      Stream s;
      Event start, stop;
      bench::Samples t;
      for (int i = 0; i < 11; ++i) {
        ADAMAS_CUDA_CHECK(cudaEventRecord(start, s));
        ADAMAS_CUDA_CHECK(cudaMemcpyAsync(b.get(), a.get(), bytes, cudaMemcpyDeviceToDevice, s));
        ADAMAS_CUDA_CHECK(cudaEventRecord(stop, s));
        ADAMAS_CUDA_CHECK(cudaEventSynchronize(stop));
        float ms = 0;
        ADAMAS_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
        if (i > 0) t.us.push_back(ms * 1e3);
      }
      bench::summarize(t);
      return 2.0 * bytes / (t.median_us * 1e-6) / 1e9;
    }();
    return gbs;
  }

  bench::DeviceFacts facts() const override {
    bench::DeviceFacts f;
    int dev = 0, l2 = 0;
    ADAMAS_CUDA_CHECK(cudaGetDevice(&dev));
    ADAMAS_CUDA_CHECK(cudaDriverGetVersion(&f.driver_version));
    ADAMAS_CUDA_CHECK(cudaRuntimeGetVersion(&f.runtime_version));
    ADAMAS_CUDA_CHECK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, dev));
    f.l2_bytes = l2;
    char bus[32] = {0};
    if (cudaDeviceGetPCIBusId(bus, sizeof bus, dev) == cudaSuccess) f.pci_bus_id = bus;
    f.driver = bench::nvml_driver_version();
    if (f.driver.empty())
      f.driver = std::to_string(f.driver_version / 1000) + "." + std::to_string(f.driver_version % 1000 / 10);
    return f;
  }

  bench::StepInputs inputs(int H, int KV, int D, int n, int sequences, uint32_t seed) override {
    static std::unique_ptr<Inputs> in;  // outlives the backend: the next case of a sweep reuses it
    if (!in || in->H != H || in->KV != KV || in->D != D || in->n != n || in->sequences != sequences ||
        in->seed != seed) {
      in.reset();  // free the old inputs before allocating the new ones
      in = std::make_unique<Inputs>();
      in->H = H, in->KV = KV, in->D = D, in->n = n, in->sequences = sequences, in->seed = seed;
      const size_t kv_elems = size_t(sequences) * KV * n * D;
      in->k = DeviceArray<__half>(kv_elems);
      in->v = DeviceArray<__half>(kv_elems);
      in->q = DeviceArray<float>(size_t(sequences) * H * D);
      in->out = DeviceArray<float>(in->q.size());
      fill(in->k, 4 * uint64_t(seed), 8.0f, stream_);
      fill(in->v, 4 * uint64_t(seed) + 1, 1.0f, stream_);
      fill(in->q, 4 * uint64_t(seed) + 2, 8.0f, stream_);
      ADAMAS_CUDA_CHECK(cudaStreamSynchronize(stream_));
    }
    return bench::StepInputs{LayerKV{in->k.get(), in->v.get(), int64_t(n) * D, KV, D}, int64_t(KV) * n * D,
                             in->q.get(), in->out.get()};
  }

  bench::PhaseTimer& timer() override { return *timer_; }

  std::function<void()> empty_step() override {
    return [this] {
      empty_kernel<<<1, 32, 0, stream_>>>();
      ADAMAS_CUDA_CHECK(cudaGetLastError());
    };
  }

  std::unique_ptr<adamas::LayerAttention> layer(const AttentionOptions& opts, int H, int KV, int D, int capacity,
                                                const bench::StepInputs& in, const std::vector<int>& lens) override {
    const int sequences = int(lens.size());
    std::unique_ptr<LayerAttention> layer = make_cuda_layer_attention(opts, H, KV, D, capacity, stream_, sequences, in.kv_batch_stride);
    if (sequences > 1) {  // the batched kernels read each sequence's length from device memory
      lens_.emplace_back(lens);  // kept while the backend lives: the layer reads it
      layer->set_device_length(lens_.back().get());
    }
    return std::unique_ptr<adamas::LayerAttention>(std::move(layer));
  }

 private:
  Stream stream_;
  std::vector<DeviceArray<int>> lens_;
  std::unique_ptr<bench::PhaseTimer> timer_ = make_cuda_timer(stream_);
};

}  // namespace

std::unique_ptr<bench::BenchBackend> make_cuda_bench_backend() { return std::make_unique<CudaBenchBackend>(); }

}  // namespace adamas::cuda
