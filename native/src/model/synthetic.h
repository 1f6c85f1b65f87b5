// Synthetic models: the shapes of real models with seeded random weights, for timing runs where the
// weights do not change the cost (no file, nothing downloaded). Tasks that need text refuse them.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/weights.h"

namespace adamas {

// "synthetic:<preset>"?
bool is_synthetic_model(const std::string& model);
// The presets: llama2-7b (32 layers, 32 heads x 128, MHA, d_model 4096, d_ff 11008, vocab 32000),
// llama3-8b (32 layers, 32 q / 8 KV heads x 128, 4096 / 14336, vocab 128256, rope base 500000),
// smollm2-135m (30 layers, 9 / 3 heads x 64, 576 / 1536, vocab 49152, tied embeddings).
std::vector<std::string> synthetic_presets();
// The configuration of "synthetic:<preset>"; InvalidArgument naming the presets for another name.
ModelConfig synthetic_config(const std::string& model);
// Host float32 weights for the CPU engine, drawn from the seed with the scale of a trained model's
// (so activations stay finite through every layer).
ModelWeights synthetic_weights(const ModelConfig& cfg, uint64_t seed);

}  // namespace adamas
