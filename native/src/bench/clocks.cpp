#include "bench/clocks.h"

#include <dlfcn.h>

#include <algorithm>
#include <chrono>

namespace adamas::bench {

// The few NVML entry points used, resolved from the library once per process.
struct NvmlLibrary {
  using Device = void*;
  int (*init)() = nullptr;
  int (*by_pci)(const char*, Device*) = nullptr;
  int (*clock)(Device, int, unsigned*) = nullptr;
  int (*driver)(char*, unsigned) = nullptr;
  bool ok = false;
  std::string error;

  static std::shared_ptr<NvmlLibrary> get() {
    static std::shared_ptr<NvmlLibrary> n = [] {
      auto n = std::make_shared<NvmlLibrary>();
      void* lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
      if (!lib) {
        n->error = "libnvidia-ml.so.1 not found";
        return n;
      }
      n->init = reinterpret_cast<int (*)()>(dlsym(lib, "nvmlInit_v2"));
      n->by_pci = reinterpret_cast<int (*)(const char*, Device*)>(dlsym(lib, "nvmlDeviceGetHandleByPciBusId_v2"));
      n->clock = reinterpret_cast<int (*)(Device, int, unsigned*)>(dlsym(lib, "nvmlDeviceGetClockInfo"));
      n->driver = reinterpret_cast<int (*)(char*, unsigned)>(dlsym(lib, "nvmlSystemGetDriverVersion"));
      if (!n->init || !n->by_pci || !n->clock) {
        n->error = "libnvidia-ml.so.1 lacks the clock functions";
      } else if (n->init() != 0) {
        n->error = "nvmlInit failed";
      } else {
        n->ok = true;
      }
      return n;  // the library stays loaded for the process
    }();
    return n;
  }
};

namespace {
constexpr int kClockSm = 1, kClockMem = 2;  // nvmlClockType_t
}

ClockSampler::ClockSampler(const std::string& pci_bus_id, int period_ms) : nvml_(NvmlLibrary::get()), period_ms_(period_ms) {
  if (!nvml_->ok) {
    note_ = nvml_->error;
    return;
  }
  if (pci_bus_id.empty() || nvml_->by_pci(pci_bus_id.c_str(), &device_) != 0) {
    note_ = "NVML does not know the device " + pci_bus_id;
    device_ = nullptr;
    return;
  }
  thread_ = std::thread([this] { run(); });
}

ClockSampler::~ClockSampler() { stop(); }

void ClockSampler::run() {
  while (!stop_.load()) {
    unsigned sm = 0, mem = 0;
    if (nvml_->clock(device_, kClockSm, &sm) == 0 && nvml_->clock(device_, kClockMem, &mem) == 0) {
      std::lock_guard<std::mutex> lock(mu_);
      sm_.push_back(sm);
      mem_.push_back(mem);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(period_ms_));
  }
}

ClockStats ClockSampler::stop() {
  if (!stopped_) {
    stopped_ = true;
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  ClockStats s;
  s.note = note_;
  std::lock_guard<std::mutex> lock(mu_);
  if (sm_.empty()) {
    if (s.note.empty()) s.note = "no clock sample";
    return s;
  }
  s.available = true;
  s.samples = int(sm_.size());
  s.sm_min_mhz = *std::min_element(sm_.begin(), sm_.end());
  s.sm_max_mhz = *std::max_element(sm_.begin(), sm_.end());
  s.mem_min_mhz = *std::min_element(mem_.begin(), mem_.end());
  s.mem_max_mhz = *std::max_element(mem_.begin(), mem_.end());
  s.throttled = double(s.sm_min_mhz) < 0.9 * s.sm_max_mhz;
  return s;
}

std::string nvml_driver_version() {
  const std::shared_ptr<NvmlLibrary> n = NvmlLibrary::get();
  char buf[96] = {0};
  if (!n->ok || !n->driver || n->driver(buf, sizeof buf) != 0) return "";
  return buf;
}

}  // namespace adamas::bench
