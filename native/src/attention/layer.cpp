// The one place a backend's layer attention is chosen.
#include "attention/layer.h"

#include "attention/cpu/layer.h"
#include "common/error.h"

#ifdef ADAMAS_WITH_CUDA
#include "attention/cuda/layer.h"
#endif

namespace adamas {

const char* backend_name(Backend b) {
  switch (b) {
    case Backend::Cpu: return "cpu";
    case Backend::Cuda: return "cuda";
  }
  return "?";
}

std::unique_ptr<LayerAttention> make_layer_attention(Backend backend, const AttentionOptions& opts, int n_heads,
                                                     int n_kv_heads, int head_dim, int capacity, void* stream) {
  if (backend == Backend::Cpu) return cpu::make_layer_attention(opts, n_heads, n_kv_heads, head_dim);
#ifdef ADAMAS_WITH_CUDA
  return cuda::make_layer_attention(opts, n_heads, n_kv_heads, head_dim, capacity, static_cast<cudaStream_t>(stream));
#else
  (void)capacity, (void)stream;
  throw InvalidArgument("CUDA attention is not available: this build has no CUDA backend (rebuild with a CUDA "
                        "toolkit on PATH or ADAMAS_CUDA=on)");
#endif
}

}  // namespace adamas
