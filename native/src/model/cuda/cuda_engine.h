// The CUDA engine (fp16 weights and KV cache on the device, cuBLAS, the decode step in a CUDA
// graph), behind make_engine for device "cuda".
#pragma once
#include <memory>
#include <string>

#include "model/engine.h"

namespace adamas::cuda {

std::unique_ptr<Engine> make_cuda_engine(const std::string& model, const EngineOptions& opts);

}  // namespace adamas::cuda
