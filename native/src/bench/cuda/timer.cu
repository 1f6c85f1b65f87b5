#include "bench/cuda/timer.h"
#include "common/cuda/buffer.h"

namespace adamas::cuda {

namespace {

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

class CudaTimer final : public bench::PhaseTimer {
 public:
  explicit CudaTimer(cudaStream_t s) : s_(s) {
    int dev = 0, l2 = 0;
    ADAMAS_CUDA_CHECK(cudaGetDevice(&dev));
    ADAMAS_CUDA_CHECK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, dev));
    flush_ = DeviceArray<uint8_t>(size_t(l2 > 0 ? l2 : 1));
    ADAMAS_CUDA_CHECK(cudaHostAlloc(reinterpret_cast<void**>(&release_), sizeof(int), cudaHostAllocMapped));
    ADAMAS_CUDA_CHECK(cudaHostGetDevicePointer(reinterpret_cast<void**>(&release_dev_), release_, 0));
    set_release(0);
  }
  ~CudaTimer() override { cudaFreeHost(release_); }
  CudaTimer(const CudaTimer&) = delete;
  CudaTimer& operator=(const CudaTimer&) = delete;

  double cold(const std::function<void()>& work) override {
    ADAMAS_CUDA_CHECK(cudaMemsetAsync(flush_.get(), ++round_ & 0xff, flush_.size(), s_));
    return timed(work, 1);
  }

  double hot(const std::function<void()>& work, int batch) override { return timed(work, batch); }

  void sync() override { ADAMAS_CUDA_CHECK(cudaStreamSynchronize(s_)); }

 private:
  // Seconds between two events around `batch` runs of work queued behind the blocking kernel,
  // divided by batch.
  double timed(const std::function<void()>& work, int batch) {
    set_release(0);
    block_stream<<<1, 1, 0, s_>>>(release_dev_, 2000000000ull);
    ADAMAS_CUDA_CHECK(cudaGetLastError());
    ADAMAS_CUDA_CHECK(cudaEventRecord(start_, s_));
    for (int i = 0; i < batch; ++i) work();
    ADAMAS_CUDA_CHECK(cudaEventRecord(stop_, s_));
    set_release(1);
    ADAMAS_CUDA_CHECK(cudaEventSynchronize(stop_));
    float ms = 0;
    ADAMAS_CUDA_CHECK(cudaEventElapsedTime(&ms, start_, stop_));
    return ms * 1e-3 / batch;
  }

  void set_release(int v) { *static_cast<volatile int*>(release_) = v; }

  cudaStream_t s_;
  DeviceArray<uint8_t> flush_;
  int* release_ = nullptr;  // host-mapped: the blocking kernel polls it
  int* release_dev_ = nullptr;
  int round_ = 0;
  Event start_, stop_;
};

}  // namespace

Stream::Stream() { ADAMAS_CUDA_CHECK(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking)); }
Stream::~Stream() { cudaStreamDestroy(s_); }
Event::Event() { ADAMAS_CUDA_CHECK(cudaEventCreate(&e_)); }
Event::~Event() { cudaEventDestroy(e_); }

std::unique_ptr<bench::PhaseTimer> make_cuda_timer(cudaStream_t stream) { return std::make_unique<CudaTimer>(stream); }

}  // namespace adamas::cuda
