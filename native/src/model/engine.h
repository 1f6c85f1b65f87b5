// The Llama-family forward pass on the CPU: dense prefill of a prompt, then token-by-token decode
// in which each layer past `skip_layers` attends through the chosen sparse attention method.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "attention/options.h"
#include "attention/layer.h"
#include "gguf/gguf.h"
#include "model/config.h"
#include "tensor/kv_cache.h"
#include "model/rope.h"
#include "model/weights.h"

namespace adamas {

struct EngineOptions {
  int threads = 0;  // 0: all hardware threads
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
  Engine(const std::string& gguf_path, const EngineOptions& opts);

  const ModelConfig& config() const { return cfg_; }
  const AttentionOptions& attention() const { return attn_; }
  int length() const { return cache_.length(); }

  // Chooses the attention method. The cached tokens stay; the method's state (page bounds, key
  // codes) is rebuilt from them at the next prefill or decode, so one dense prefill can serve
  // several methods.
  void set_attention(AttentionOptions opts);
  // Keeps the first n cached tokens and forgets the rest (and the records); the method's state is
  // rebuilt at the next prefill or decode, and a decode step that follows counts as the first
  // after a prefill.
  void truncate(int n);
  // Forgets the sequence: truncate(0).
  void reset() { truncate(0); }

  // Dense prefill of n tokens at positions length() .. length()+n-1 (all layers full attention).
  // last_logits (vocab) receives the logits after the last token; nll (n-1 entries, optional)
  // the negative log-likelihood of tokens[i+1] given the prefix up to i.
  void prefill(const int32_t* tokens, int n, float* last_logits, float* nll = nullptr);
  // One decode step: appends `token` and writes the next-token logits (vocab).
  void decode(int32_t token, float* logits);

  const std::vector<StepRecord>& records() const { return records_; }
  void clear_records() { records_.clear(); }

 private:
  void check_tokens(const int32_t* tokens, int n) const;
  void use_threads() const;
  void rebuild_layers();
  LayerKV layer_kv(int layer) const;
  void attention_decode_layer(int layer, const float* q, float* out, StepRecord* rec);
  void lm_head(const float* x, int T, float* logits);

  std::unique_ptr<gguf::File> file_;
  ModelConfig cfg_;
  ModelWeights w_;
  Rope rope_;
  KVCache cache_;
  AttentionOptions attn_;
  std::vector<std::unique_ptr<LayerAttention>> layers_;  // per layer; full attention below skip_layers
  bool prefill_pending_ = false;  // a prefill happened and the layers have not been told it ended
  bool layers_stale_ = true;      // the method or the cache length changed since the last rebuild
  std::vector<StepRecord> records_;
  int threads_ = 0;  // 0: OpenMP's default (OMP_NUM_THREADS, else every core)
};

}  // namespace adamas
