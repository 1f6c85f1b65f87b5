// The model's parameters on the device: matrices in the chosen type (F16; BF16 with weight_type
// "bf16"; F32 with "f32", the CPU's values exactly, for small models), norms and biases fp32. A
// layer's q, k and v weights are one matrix (rows: q, then k, then v) so that a decode step runs
// one GEMV for them; gate and up likewise.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

#include "gguf/gguf.h"
#include "model/config.h"
#include "model/cuda/memory.h"

namespace adamas::cuda {

struct DeviceLayerWeights {
  DeviceBuffer attn_norm;  // fp32 [C]
  DeviceBuffer wqkv;       // [(H + 2 KV) D][C]
  DeviceBuffer bqkv;       // fp32 [(H + 2 KV) D]; empty without q/k/v biases
  DeviceBuffer wo;         // [C][H D]
  DeviceBuffer ffn_norm;   // fp32 [C]
  DeviceBuffer w_gate_up;  // [2 F][C]: the gate rows, then the up rows
  DeviceBuffer w_down;     // [C][F]
};

struct DeviceWeights {
  DType type = DType::F16;
  DeviceBuffer token_embd;        // [vocab][C]
  DeviceBuffer output;            // [vocab][C]; empty when tied to token_embd
  DeviceBuffer output_norm;       // fp32 [C]
  std::vector<float> rope_freqs;  // host [D/2]: Llama 3.1 frequency factors; empty unless present
  std::vector<DeviceLayerWeights> layers;

  const void* lm_head() const { return output ? output.get() : token_embd.get(); }
};

// Bytes the weights of cfg take on the device in `type`.
size_t device_weight_bytes(const ModelConfig& cfg, DType type);

// Every tensor of the file in turn: dequantised on the host (load_weight: shape checked, q/k rows
// un-permuted), converted on the device, then freed, so the host holds one float32 tensor at a
// time. Throws InvalidArgument, before reading anything, when the weights do not fit on the device.
DeviceWeights upload_weights(const gguf::File& file, const ModelConfig& cfg, DType type, cudaStream_t stream);

// Seeded random weights drawn on the device (synthetic models): each matrix N(0, 1 / fan_in), the
// embedding N(0, 1), norms 1, biases 0, so that every sub-layer adds O(1) to the residual stream
// and activations stay finite over any depth. The same (cfg, seed) gives the same weights.
DeviceWeights random_weights(const ModelConfig& cfg, DType type, uint64_t seed, cudaStream_t stream);

}  // namespace adamas::cuda
