// The CUDA engine (model/engine.h) on the current CUDA device: fp16 (or bf16) weights, an fp16 KV
// cache laid out as the attention kernels read it, cuBLASLt products with fp32 accumulation, a
// tensor-core causal prefill in chunks, and a decode step whose dense parts are captured once in
// CUDA graphs and replayed, each layer's attention going through the method's LayerAttention.
// make_engine calls this for EngineOptions::device "cuda".
#pragma once
#include <memory>
#include <string>

#include "model/engine.h"

namespace adamas::cuda {

// model: a GGUF file's path or "synthetic:<preset>" (weights drawn on the device from opts.seed);
// opts.weight_type: "f16", "bf16" or "f32". Throws InvalidArgument (no device, a weight type or
// attention option this backend does not take, out of device memory: naming the bytes needed and
// free), UnsupportedModel (a head_dim or GQA group the kernels do not take), gguf::Error (a bad
// file).
std::unique_ptr<Engine> make_cuda_engine(const std::string& model, const EngineOptions& opts);

}  // namespace adamas::cuda
