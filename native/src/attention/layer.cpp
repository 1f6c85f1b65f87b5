// The one place a backend's layer attention is chosen.
#include "attention/layer.h"

#include "attention/cpu/layer.h"
#include "common/error.h"

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
  (void)capacity, (void)stream;
  if (backend == Backend::Cpu) return cpu::make_layer_attention(opts, n_heads, n_kv_heads, head_dim);
  throw InvalidArgument("CUDA attention is not reachable through make_layer_attention yet");
}

}  // namespace adamas
