// The CPU engine: the Llama-family forward pass in float32, the reference of the CUDA engine.
// Dense prefill in chunks; at decode every layer attends through its CPU LayerAttention
// (full attention below skip_layers). The KV cache is float32, or with kv_type "f16" float32
// storage of fp16-rounded keys and values (what the CUDA engine's fp16 cache holds).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "attention/layer.h"
#include "model/config.h"
#include "model/engine.h"
#include "model/rope.h"
#include "model/weights.h"
#include "tensor/kv_cache.h"

namespace adamas {

class CpuEngine final : public Engine {
 public:
  // model: a GGUF path or "synthetic:<preset>" (refused when its weights do not fit in memory).
  static std::unique_ptr<Engine> open(const std::string& model, const EngineOptions& opts);
  CpuEngine(ModelConfig cfg, ModelWeights weights, const EngineOptions& opts);

  const ModelConfig& config() const override { return cfg_; }
  const AttentionOptions& attention() const override { return attn_; }
  std::string backend() const override { return "cpu"; }
  std::string device_name() const override;
  int length() const override { return cache_.length(); }

  void set_attention(AttentionOptions opts) override;
  void reserve(int n) override;
  void truncate(int n) override;

  int32_t prefill(const int32_t* tokens, int n, float* last_logits, float* nll = nullptr) override;
  int32_t decode(int32_t token, float* logits) override;
  void replay_next(std::vector<std::vector<int32_t>> selected) override;

  const std::vector<StepRecord>& records() const override { return records_; }
  void clear_records() override { records_.clear(); }

 private:
  void check_tokens(const int32_t* tokens, int n) const;
  void use_threads() const;
  void rebuild_layers();
  LayerKV layer_kv(int layer) const;
  void attention_decode_layer(int layer, const float* q, float* out, StepRecord* rec);
  void lm_head(const float* x, int T, float* logits);

  ModelConfig cfg_;
  ModelWeights w_;
  Rope rope_;
  KVCache cache_;
  AttentionOptions attn_;
  std::vector<std::unique_ptr<LayerAttention>> layers_;  // per layer; full attention below skip_layers
  bool prefill_pending_ = false;  // a prefill happened and the layers have not been told it ended
  bool layers_stale_ = true;      // the method or the cache length changed since the last rebuild
  std::vector<std::vector<int32_t>> replay_;  // replay_next's lists for the next decode step, if any
  std::vector<StepRecord> records_;
  std::vector<float> logits_;  // [vocab] when the caller does not want them
  int threads_ = 0;            // 0: OpenMP's default (OMP_NUM_THREADS, else every core)
};

}  // namespace adamas
