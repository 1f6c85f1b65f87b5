// An owned device array (cudaMalloc / cudaFree) with checked copies to and from the host.
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

#include "common/cuda/check.h"

namespace adamas::cuda {

template <class T>
class DeviceArray {
 public:
  DeviceArray() = default;
  explicit DeviceArray(size_t n) : n_(n) {
    if (n > 0) ADAMAS_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&p_), n * sizeof(T)));
  }
  explicit DeviceArray(const std::vector<T>& host) : DeviceArray(host.size()) { upload(host); }
  DeviceArray(DeviceArray&& o) noexcept : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  DeviceArray& operator=(DeviceArray&& o) noexcept {
    std::swap(p_, o.p_);
    std::swap(n_, o.n_);
    return *this;
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  ~DeviceArray() {
    if (p_) cudaFree(p_);
  }

  T* get() const { return p_; }
  size_t size() const { return n_; }

  void upload(const std::vector<T>& host) {
    ADAMAS_CUDA_CHECK(cudaMemcpy(p_, host.data(), std::min(n_, host.size()) * sizeof(T), cudaMemcpyHostToDevice));
  }
  std::vector<T> download() const {
    std::vector<T> host(n_);
    ADAMAS_CUDA_CHECK(cudaMemcpy(host.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost));
    return host;
  }
  // Every byte set to `byte` (0xff: NaN floats, -1 integers), to catch elements left unwritten;
  // queued on `stream` (the legacy default stream when null).
  void fill_bytes(int byte, cudaStream_t stream = nullptr) {
    ADAMAS_CUDA_CHECK(cudaMemsetAsync(p_, byte, n_ * sizeof(T), stream));
  }

 private:
  T* p_ = nullptr;
  size_t n_ = 0;
};

}  // namespace adamas::cuda
