// Model parameters as GGUF stores them, read one tensor at a time (weight_specs + load_weight),
// and the CPU engine's copy: every tensor dequantised once at load into float32.
#pragma once
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "model/config.h"

namespace adamas {

using Tensor = std::vector<float>;

struct LayerWeights {
  Tensor attn_norm;       // [d_model]
  Tensor wq, wk, wv, wo;  // [n_heads*D][d_model], [n_kv*D][d_model] x2, [d_model][n_heads*D]
  Tensor bq, bk, bv;      // empty unless config.qkv_bias
  Tensor ffn_norm;        // [d_model]
  Tensor w_gate, w_up;    // [d_ff][d_model]
  Tensor w_down;          // [d_model][d_ff]
};

struct ModelWeights {
  Tensor token_embd;   // [vocab][d_model]
  Tensor output_norm;  // [d_model]
  Tensor output;       // [vocab][d_model]; empty when tied to token_embd
  Tensor rope_freqs;   // [D/2]; empty unless config.rope_freq_factors
  std::vector<LayerWeights> layers;

  const float* lm_head() const { return output.empty() ? token_embd.data() : output.data(); }
};

// What a tensor is in the model.
enum class WeightRole {
  TokenEmbd, OutputNorm, Output, RopeFreqs,  // global
  AttnNorm, Q, K, V, O, QBias, KBias, VBias, FfnNorm, Gate, Up, Down,  // per layer
};

// One tensor the model needs: its GGUF name and shape (ne[0] first, the contiguous dimension).
struct WeightSpec {
  WeightRole role;
  int layer;  // -1 for the global tensors
  std::string name;
  std::vector<uint64_t> shape;
};

// Every tensor the configuration needs, global ones first, then layer by layer.
std::vector<WeightSpec> weight_specs(const ModelConfig& cfg);

// Reads one tensor: checks its shape, dequantises it into float32, and moves the rows of
// attn_q/attn_k (and their biases) back to the rotate-half layout when the file stores them
// permuted. Throws UnsupportedModel naming the tensor for a shape that does not fit.
Tensor load_weight(const gguf::File& file, const ModelConfig& cfg, const WeightSpec& spec);

// The float32 slot of a tensor in the CPU engine's weights.
Tensor& weight_slot(ModelWeights& w, const WeightSpec& spec);

// Every tensor of weight_specs, loaded with load_weight.
ModelWeights load_weights(const gguf::File& file, const ModelConfig& cfg);

}  // namespace adamas
