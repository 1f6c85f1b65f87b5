#include <string>
#include <vector>

#include "common/cuda/check.h"
#include "model/cuda/rope_table.h"

namespace adamas::cuda {

void RopeTable::grow(int n, cudaStream_t stream) {
  if (n <= positions_) return;
  const size_t row = size_t(half_) * sizeof(float2);
  DeviceBuffer next(size_t(n) * row, "the RoPE table for " + std::to_string(n) + " positions");
  if (positions_ > 0)
    ADAMAS_CUDA_CHECK(cudaMemcpyAsync(next.get(), table_.get(), size_t(positions_) * row, cudaMemcpyDeviceToDevice, stream));
  std::vector<float> c(half_), s(half_);
  std::vector<float2> host(size_t(n - positions_) * half_);
  for (int p = positions_; p < n; ++p) {
    rope_.angles(p, c.data(), s.data());
    for (int i = 0; i < half_; ++i) host[size_t(p - positions_) * half_ + i] = make_float2(c[i], s[i]);
  }
  ADAMAS_CUDA_CHECK(cudaMemcpyAsync(next.as<float2>() + size_t(positions_) * half_, host.data(), host.size() * sizeof(float2),
                                    cudaMemcpyHostToDevice, stream));
  ADAMAS_CUDA_CHECK(cudaStreamSynchronize(stream));
  table_ = std::move(next);
  positions_ = n;
}

}  // namespace adamas::cuda
