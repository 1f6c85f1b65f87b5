// SM and memory clocks of a GPU sampled while a benchmark case runs, through NVML loaded at run
// time (dlopen of libnvidia-ml.so.1), so that a build runs where the library is missing: the
// sampler then reports itself unavailable. A case is throttled when a sample of its SM clock is
// below 90% of the highest one seen (NVBench's rule, taken within the case).
#pragma once
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace adamas::bench {

struct NvmlLibrary;

struct ClockStats {
  bool available = false;  // NVML was loaded and answered for the device
  int samples = 0;
  unsigned sm_min_mhz = 0, sm_max_mhz = 0, mem_min_mhz = 0, mem_max_mhz = 0;
  bool throttled = false;  // a sample below 90% of sm_max_mhz
  std::string note;        // why the clocks are unavailable, when they are
};

// Samples the clocks of the device with this PCI bus id ("0000:3b:00.0", as CUDA gives it) every
// period_ms on a thread of its own, from construction to stop().
class ClockSampler {
 public:
  explicit ClockSampler(const std::string& pci_bus_id, int period_ms = 5);
  ~ClockSampler();
  ClockSampler(const ClockSampler&) = delete;
  ClockSampler& operator=(const ClockSampler&) = delete;
  ClockStats stop();

 private:
  void run();

  std::shared_ptr<NvmlLibrary> nvml_;
  void* device_ = nullptr;
  int period_ms_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<unsigned> sm_, mem_;
  std::thread thread_;
  std::string note_;
  bool stopped_ = false;
};

// The NVIDIA driver's version string from NVML ("" when NVML is unavailable).
std::string nvml_driver_version();

}  // namespace adamas::bench
