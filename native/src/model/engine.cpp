// make_engine: the one place an engine's backend is chosen.
#include "model/engine.h"

#include "common/error.h"
#include "model/cpu_engine.h"

#ifdef ADAMAS_WITH_CUDA
#include "model/cuda/cuda_engine.h"
#endif

namespace adamas {

namespace {

// The backend's own KV type is "" (cpu: f32, cuda: f16); any other value must be one it takes.
void check_kv_type(const EngineOptions& opts) {
  const std::string& t = opts.kv_type;
  if (!t.empty() && t != "f32" && t != "f16")
    throw InvalidArgument("kv_type '" + t + "' is unknown (choices: f32, f16)");
  if (opts.device == "cuda" && t == "f32")
    throw InvalidArgument("kv_type 'f32' is not supported by the CUDA engine: its attention kernels read an fp16 KV "
                          "cache (choices on CUDA: f16)");
}

}  // namespace

std::unique_ptr<Engine> make_engine(const std::string& model, const EngineOptions& opts) {
  if (opts.device == "cpu" || opts.device == "cuda") check_kv_type(opts);
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
