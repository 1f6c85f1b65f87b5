// The CUDA clock of the timing core (bench/timer.h): CUDA events around the work on one stream.
// Cold: the L2 cache flushed (a memset of an L2-sized buffer) before every sample and the
// launches queued behind a blocking kernel, so neither a warm cache nor the host's launch cost
// is timed (NVBench's cold measurement). Hot: the work launched `batch` times back to back
// behind the blocking kernel, the time between the events divided by the count.
#pragma once
#include <cuda_runtime.h>

#include <memory>

#include "bench/timer.h"

namespace adamas::cuda {

class Stream {
 public:
  Stream();
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  operator cudaStream_t() const { return s_; }

 private:
  cudaStream_t s_ = nullptr;
};

class Event {
 public:
  Event();
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  operator cudaEvent_t() const { return e_; }

 private:
  cudaEvent_t e_ = nullptr;
};

// The timer of work queued on `stream` (which must outlive it).
std::unique_ptr<bench::PhaseTimer> make_cuda_timer(cudaStream_t stream);

}  // namespace adamas::cuda
