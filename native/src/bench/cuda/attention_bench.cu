#include <cuda_fp16.h>

#include <functional>
#include <memory>

#include "attention/cuda/layer.h"
#include "bench/cuda/attention_bench_cuda.h"
#include "common/cuda/buffer.h"
#include "common/error.h"

namespace adamas::bench {

namespace {

using cuda::DeviceArray;

// A standard normal value per (seed, i) from a counter-based hash (Box-Muller on two uniforms),
// so gigabytes of inputs are drawn on the device in a few milliseconds, reproducibly.
__device__ float hash_normal(uint64_t seed, uint64_t i) {
  uint64_t z = seed * 0x9e3779b97f4a7c15ull + i * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  const float u1 = (float(uint32_t(z >> 40)) + 1.0f) / 16777217.0f;  // (0, 1]
  const float u2 = float(uint32_t(z) & 0xffffffu) / 16777216.0f;
  return sqrtf(-2.0f * logf(u1)) * cospif(2.0f * u2);
}

template <class T>
__global__ void fill_normal(T* x, size_t n, uint64_t seed, float sd) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    x[i] = T(sd * hash_normal(seed, i));
}

template <class T>
void fill(DeviceArray<T>& a, uint64_t seed, float sd) {
  fill_normal<<<1024, 256>>>(a.get(), a.size(), seed, sd);
  ADAMAS_CUDA_CHECK(cudaGetLastError());
}

__device__ __forceinline__ unsigned long long global_ns() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

// Holds the stream until the host has queued a sample's work (NVBench's blocking kernel), so the
// host's launch costs do not show up between the timed launches; gives up after timeout_ns.
__global__ void block_stream(const volatile int* release, unsigned long long timeout_ns) {
  const unsigned long long start = global_ns();
  while (!*release && global_ns() - start < timeout_ns) {
  }
}

class Stream {
 public:
  Stream() { ADAMAS_CUDA_CHECK(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking)); }
  ~Stream() { cudaStreamDestroy(s_); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  operator cudaStream_t() const { return s_; }

 private:
  cudaStream_t s_ = nullptr;
};

class Event {
 public:
  Event() { ADAMAS_CUDA_CHECK(cudaEventCreate(&e_)); }
  ~Event() { cudaEventDestroy(e_); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  operator cudaEvent_t() const { return e_; }

 private:
  cudaEvent_t e_ = nullptr;
};

// One cold sample: flush L2, block the stream, queue start event, work, stop event, release.
class ColdTimer {
 public:
  explicit ColdTimer(cudaStream_t s) : s_(s) {
    int dev = 0, l2 = 0;
    ADAMAS_CUDA_CHECK(cudaGetDevice(&dev));
    ADAMAS_CUDA_CHECK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, dev));
    flush_ = DeviceArray<uint8_t>(size_t(l2 > 0 ? l2 : 1));
    ADAMAS_CUDA_CHECK(cudaHostAlloc(reinterpret_cast<void**>(&release_), sizeof(int), cudaHostAllocMapped));
    ADAMAS_CUDA_CHECK(cudaHostGetDevicePointer(reinterpret_cast<void**>(&release_dev_), release_, 0));
    set_release(0);
  }
  ~ColdTimer() { cudaFreeHost(release_); }
  ColdTimer(const ColdTimer&) = delete;
  ColdTimer& operator=(const ColdTimer&) = delete;

  // Seconds between the events around work().
  double sample(const std::function<void()>& work) {
    set_release(0);
    ADAMAS_CUDA_CHECK(cudaMemsetAsync(flush_.get(), ++round_ & 0xff, flush_.size(), s_));
    block_stream<<<1, 1, 0, s_>>>(release_dev_, 2000000000ull);
    ADAMAS_CUDA_CHECK(cudaGetLastError());
    ADAMAS_CUDA_CHECK(cudaEventRecord(start_, s_));
    work();
    ADAMAS_CUDA_CHECK(cudaEventRecord(stop_, s_));
    set_release(1);
    ADAMAS_CUDA_CHECK(cudaEventSynchronize(stop_));
    float ms = 0;
    ADAMAS_CUDA_CHECK(cudaEventElapsedTime(&ms, start_, stop_));
    return ms * 1e-3;
  }

 private:
  void set_release(int v) { *static_cast<volatile int*>(release_) = v; }

  cudaStream_t s_;
  DeviceArray<uint8_t> flush_;
  int* release_ = nullptr;  // host-mapped: the blocking kernel polls it
  int* release_dev_ = nullptr;
  int round_ = 0;
  Event start_, stop_;
};

// Random inputs, kept while consecutive cases share the shape (a sweep over budgets and methods).
struct Inputs {
  int H = 0, KV = 0, D = 0, n = 0;
  uint32_t seed = 0;
  DeviceArray<__half> k, v;
  DeviceArray<float> q, out;
};

Inputs& inputs(const AttentionBenchConfig& c) {
  static std::unique_ptr<Inputs> in;
  if (in && in->H == c.n_heads && in->KV == c.n_kv_heads && in->D == c.head_dim && in->n == c.kv_len &&
      in->seed == c.seed)
    return *in;
  in.reset();  // free the old inputs before allocating the new ones
  in = std::make_unique<Inputs>();
  in->H = c.n_heads, in->KV = c.n_kv_heads, in->D = c.head_dim, in->n = c.kv_len, in->seed = c.seed;
  const size_t kv_elems = size_t(c.n_kv_heads) * c.kv_len * c.head_dim;
  in->k = DeviceArray<__half>(kv_elems);
  in->v = DeviceArray<__half>(kv_elems);
  in->q = DeviceArray<float>(size_t(c.n_heads) * c.head_dim);
  in->out = DeviceArray<float>(in->q.size());
  // keys and queries spread over all four Adamas buckets (thresholds -10, 0, 10)
  fill(in->k, 4 * uint64_t(c.seed), 8.0f);
  fill(in->v, 4 * uint64_t(c.seed) + 1, 1.0f);
  fill(in->q, 4 * uint64_t(c.seed) + 2, 8.0f);
  ADAMAS_CUDA_CHECK(cudaDeviceSynchronize());
  return *in;
}

}  // namespace

double cuda_copy_bandwidth_gbs() {
  static const double gbs = [] {
    const size_t bytes = size_t(512) << 20;
    DeviceArray<uint8_t> a(bytes), b(bytes);
    a.fill_bytes(1);
    Stream s;
    Event start, stop;
    Samples t;
    for (int i = 0; i < 11; ++i) {
      ADAMAS_CUDA_CHECK(cudaEventRecord(start, s));
      ADAMAS_CUDA_CHECK(cudaMemcpyAsync(b.get(), a.get(), bytes, cudaMemcpyDeviceToDevice, s));
      ADAMAS_CUDA_CHECK(cudaEventRecord(stop, s));
      ADAMAS_CUDA_CHECK(cudaEventSynchronize(stop));
      float ms = 0;
      ADAMAS_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
      if (i > 0) t.us.push_back(ms * 1e3);  // the first copy is a warm-up
    }
    summarize(t);
    return 2.0 * bytes / (t.median_us * 1e-6) / 1e9;
  }();
  return gbs;
}

AttentionBenchResult bench_attention_step_cuda(const AttentionBenchConfig& c) {
  AttentionOptions o = c.attention;
  validate(o, c.head_dim, o.skip_layers);
  const int H = c.n_heads, KV = c.n_kv_heads, D = c.head_dim, n = c.kv_len;

  AttentionBenchResult r;
  r.backend = "cuda";
  int dev = 0;
  cudaDeviceProp prop;
  ADAMAS_CUDA_CHECK(cudaGetDevice(&dev));
  ADAMAS_CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
  r.device = prop.name;
  r.copy_bandwidth_gbs = cuda_copy_bandwidth_gbs();

  Inputs& in = inputs(c);
  const LayerKV kv{in.k.get(), in.v.get(), int64_t(n) * D, KV, D};
  Stream s;
  cuda::LayerAttention layer(o, H, KV, D, n, s);
  layer.append(kv, 0, n);
  r.sparse = layer.sparse(n);
  ColdTimer timer(s);
  auto measure = [&](const std::function<void()>& work) {
    work();  // warm-up (module load, first-touch)
    ADAMAS_CUDA_CHECK(cudaStreamSynchronize(s));
    return collect_samples(c.rule, [&] { return timer.sample(work); });
  };

  const float* q = in.q.get();
  float* out = in.out.get();
  const PhaseBytes bytes = layer.bytes(n);
  if (r.sparse) {
    if (o.method != Method::Streaming) r.estimate = {measure([&] { layer.estimate(q, kv, n); }), bytes.estimate};
    r.topk = {measure([&] { layer.select(n); }), bytes.select};
  }
  r.attention = {measure([&] { layer.attend(out, q, kv, n); }), bytes.attend};
  r.total = r.attention;  // dense: the step is the attention
  if (r.sparse) r.total = {measure([&] { layer.step(out, q, kv, n); }), bytes.total()};
  if (c.measure_full) {
    cuda::LayerAttention full(AttentionOptions{}, H, KV, D, n, s);
    r.full = {measure([&] { full.attend(out, q, kv, n); }), full.bytes(n).attend};
  }
  ADAMAS_CUDA_CHECK(cudaStreamSynchronize(s));
  return r;
}

}  // namespace adamas::bench
