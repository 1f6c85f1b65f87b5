// A Llama-family model ready to run: dense prefill of a prompt, then token-by-token decode in which
// each layer past `skip_layers` attends through the chosen method's LayerAttention
// (attention/layer.h). Two implementations: the CPU reference (float32) and the CUDA engine (fp16
// weights and KV cache, cuBLAS, the decode step in a CUDA graph). make_engine picks one.
#pragma once
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "attention/options.h"
#include "model/config.h"

namespace adamas {

struct EngineOptions {
  std::string device = "cpu";  // "cpu" or "cuda" (the current CUDA device)
  int threads = 0;             // cpu: 0 = every hardware thread
  std::string weight_type = "f16";  // cuda: "f16", "bf16" or "f32" (the CPU's weights exactly)
  // The KV cache's element type: "" for the backend's own (cpu: f32, cuda: f16), "f32" or "f16".
  // The CPU engine with "f16" rounds every key and value it stores to the nearest fp16 (kept in
  // float32 storage), so it attends over what the CUDA engine's fp16 cache holds; the CUDA engine
  // takes "f16" only (its kernels read an fp16 cache).
  std::string kv_type;
  uint64_t seed = 1;           // synthetic models: the seed of their random weights
};

// Per decode step, what the instrumentation recorded.
struct StepRecord {
  int position = 0;
  // [n_layers][n_heads]: full-attention softmax mass on the selected tokens; NaN where the layer
  // attended densely at this step (skipped layer or kv_len <= budget).
  std::vector<float> recall;
  // [n_layers][n_heads] lists of selected positions (empty for dense); only with record_selection.
  std::vector<std::vector<int32_t>> selected;
};

class Engine {
 public:
  virtual ~Engine() = default;

  virtual const ModelConfig& config() const = 0;
  virtual const AttentionOptions& attention() const = 0;
  // "cpu" or "cuda", and the device's name (CPU model, GPU name).
  virtual std::string backend() const = 0;
  virtual std::string device_name() const = 0;
  // Tokens in the cache.
  virtual int length() const = 0;

  // Chooses the attention method (validated against the model and the backend: InvalidArgument
  // names the knob). The cached tokens stay; the method's state is rebuilt from them at the next
  // prefill or decode, so one dense prefill can serve several methods.
  virtual void set_attention(AttentionOptions opts) = 0;
  // Makes room for n tokens in all, keeping what is stored (prefill and decode grow the cache
  // themselves; reserving the job's size up front avoids regrowth). CUDA: out of device memory is
  // an error naming the bytes needed and free.
  virtual void reserve(int n) = 0;
  // Keeps the first n cached tokens and forgets the rest (and the records); a decode step that
  // follows counts as the first after a prefill.
  virtual void truncate(int n) = 0;
  void reset() { truncate(0); }

  // Dense prefill of n tokens at positions length() .. length()+n-1 (every layer full attention).
  // Returns the greedy next token. last_logits (vocab floats, optional) receives the logits after
  // the last token; nll (n-1 floats, optional) the negative log-likelihood of tokens[i+1] given the
  // prefix up to i. Logits leave the device only when asked for.
  virtual int32_t prefill(const int32_t* tokens, int n, float* last_logits, float* nll = nullptr) = 0;
  // One decode step: appends `token`, returns the greedy next token and, when logits is not null,
  // writes the next-token logits (vocab floats).
  virtual int32_t decode(int32_t token, float* logits) = 0;
  // The next decode step only: every sparse layer attends over these lists instead of selecting
  // ([n_layers * n_heads], as StepRecord::selected holds them; entries of dense layers ignored).
  virtual void replay_next(std::vector<std::vector<int32_t>> selected) = 0;

  virtual const std::vector<StepRecord>& records() const = 0;
  virtual void clear_records() = 0;

  // Device time of the last decode step in milliseconds (CUDA events around the replayed graph);
  // NaN on the CPU.
  virtual double last_decode_ms() const { return std::numeric_limits<double>::quiet_NaN(); }
};

// model: a GGUF file's path, or "synthetic:<preset>" (model/synthetic.h: seeded random weights of
// a real model's shape, for timing). Throws InvalidArgument for an unknown device or preset, a
// kv_type the backend does not take; gguf::Error / UnsupportedModel for a file that cannot be run.
std::unique_ptr<Engine> make_engine(const std::string& model, const EngineOptions& opts);

}  // namespace adamas
