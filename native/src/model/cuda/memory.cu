#include <cstdio>
#include <utility>

#include "common/cuda/check.h"
#include "common/error.h"
#include "model/cuda/memory.h"

namespace adamas::cuda {

size_t dtype_bytes(DType t) { return t == DType::F32 ? 4 : 2; }

const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "f32";
    case DType::F16: return "f16";
    case DType::BF16: return "bf16";
  }
  return "?";
}

std::string format_bytes(double b) {
  char buf[64];
  if (b >= double(1ull << 30))
    std::snprintf(buf, sizeof buf, "%.2f GiB", b / double(1ull << 30));
  else if (b >= double(1ull << 20))
    std::snprintf(buf, sizeof buf, "%.1f MiB", b / double(1ull << 20));
  else
    std::snprintf(buf, sizeof buf, "%.0f bytes", b);
  return buf;
}

void device_memory(size_t* free_bytes, size_t* total_bytes) {
  ADAMAS_CUDA_CHECK(cudaMemGetInfo(free_bytes, total_bytes));
}

void throw_out_of_memory(const std::string& what, size_t bytes) {
  size_t free_bytes = 0, total = 0;
  device_memory(&free_bytes, &total);
  throw InvalidArgument("out of device memory: " + what + " needs " + format_bytes(double(bytes)) + ", " +
                        format_bytes(double(free_bytes)) + " free of " + format_bytes(double(total)));
}

DeviceBuffer::DeviceBuffer(size_t bytes, const std::string& what) : bytes_(bytes) {
  if (bytes == 0) return;
  const cudaError_t e = cudaMalloc(&p_, bytes);
  if (e == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();  // not sticky: clear it so that the next call does not see it
    p_ = nullptr;
    throw_out_of_memory(what, bytes);
  }
  ADAMAS_CUDA_CHECK(e);
}

DeviceBuffer::DeviceBuffer(DeviceBuffer&& o) noexcept
    : p_(std::exchange(o.p_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    if (p_) cudaFree(p_);  // released at once: a regrown cache holds one old layer at a time
    p_ = std::exchange(o.p_, nullptr);
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}

DeviceBuffer::~DeviceBuffer() {
  if (p_) cudaFree(p_);
}

}  // namespace adamas::cuda
