#include "common/error.h"
#include "model/cuda/cuda_engine.h"

namespace adamas::cuda {

std::unique_ptr<Engine> make_cuda_engine(const std::string&, const EngineOptions&) {
  throw InvalidArgument("the CUDA engine is not built yet");
}

}  // namespace adamas::cuda
