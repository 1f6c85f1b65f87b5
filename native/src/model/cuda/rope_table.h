// RoPE's cos/sin on the device, [positions][D/2] float2 (cos, sin), computed on the host by the
// CPU's Rope::angles so that linear, YaRN and Llama 3.1 scaling give exactly the CPU's factors.
#pragma once
#include <cuda_runtime.h>

#include "model/cuda/memory.h"
#include "model/rope.h"

namespace adamas::cuda {

class RopeTable {
 public:
  RopeTable(const Rope& rope, int head_dim) : rope_(rope), half_(head_dim / 2) {}
  int positions() const { return positions_; }
  const float2* get() const { return table_.as<float2>(); }
  // Makes the table cover positions [0, n), keeping what it holds (only new positions are computed).
  void grow(int n, cudaStream_t stream);

 private:
  const Rope& rope_;
  int half_;
  int positions_ = 0;
  DeviceBuffer table_;
};

}  // namespace adamas::cuda
