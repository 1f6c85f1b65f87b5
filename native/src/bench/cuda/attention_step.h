// The CUDA side of the step benchmark (bench/attention_step.h): inputs drawn on the device, a
// stream of its own, CUDA events for the timer, the device's name and copy bandwidth.
#pragma once
#include <memory>

#include "bench/attention_step.h"

namespace adamas::cuda {

std::unique_ptr<bench::BenchBackend> make_cuda_bench_backend();

}  // namespace adamas::cuda
