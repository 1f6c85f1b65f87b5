// make_engine: the one place an engine's backend is chosen.
#include "model/engine.h"

#include "common/error.h"
#include "model/cpu_engine.h"

#ifdef ADAMAS_WITH_CUDA
#include "model/cuda/cuda_engine.h"
#endif

namespace adamas {

std::unique_ptr<Engine> make_engine(const std::string& model, const EngineOptions& opts) {
  if (opts.device == "cpu") return CpuEngine::open(model, opts);
  if (opts.device == "cuda") {
#ifdef ADAMAS_WITH_CUDA
    return cuda::make_cuda_engine(model, opts);
#else
    throw InvalidArgument("device 'cuda' is not available: this build has no CUDA backend (rebuild with a CUDA "
                          "toolkit on PATH or ADAMAS_CUDA=on)");
#endif
  }
  throw InvalidArgument("unknown device '" + opts.device + "' (choices: cpu, cuda)");
}

}  // namespace adamas
