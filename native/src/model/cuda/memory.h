// Device memory of the CUDA engine: an allocation that fails says what it was for, how many bytes
// it needed and how many were free (an InvalidArgument: the job cannot run on this device as
// asked), and the element types of its matrices.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace adamas::cuda {

enum class DType { F32, F16, BF16 };
size_t dtype_bytes(DType t);
const char* dtype_name(DType t);

// "1.50 GiB", "512.0 MiB", "12 bytes".
std::string format_bytes(double bytes);
// Free and total bytes of the current device.
void device_memory(size_t* free_bytes, size_t* total_bytes);
// Throws InvalidArgument: "out of device memory: <what> needs <bytes>, <free> free of <total>".
[[noreturn]] void throw_out_of_memory(const std::string& what, size_t bytes);

// An owned device allocation (cudaMalloc; released by the destructor).
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  // what: named in the out-of-memory error, e.g. "the KV cache of layer 3 (8192 positions)".
  DeviceBuffer(size_t bytes, const std::string& what);
  DeviceBuffer(DeviceBuffer&& o) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer();

  void* get() const { return p_; }
  template <class T>
  T* as() const {
    return static_cast<T*>(p_);
  }
  size_t bytes() const { return bytes_; }
  explicit operator bool() const { return p_ != nullptr; }

 private:
  void* p_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace adamas::cuda
