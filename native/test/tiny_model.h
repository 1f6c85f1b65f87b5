// Small models with seeded random weights, written as GGUF bytes, for the engine tests (CPU and CUDA).
#pragma once
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gguf_writer.h"

namespace adamas::test {

struct TinyShape {
  const char* name;
  int layers, d_model, heads, kv_heads, head_dim, d_ff, vocab;
  std::string arch = "llama";  // llama (q/k rows permuted in the file) or qwen2 (q/k/v biases)
  std::string rope_scaling;    // "", "linear" or "yarn"
};

// N(0, 1/fan_in) matrices so activations stay O(1), larger q/k weights so that attention is
// peaked and the choice of tokens matters.
inline std::vector<uint8_t> tiny_model(const TinyShape& s, uint32_t seed) {
  std::mt19937 rng(seed);
  auto random = [&rng](size_t n, float sd, float mean = 0.0f) {
    std::normal_distribution<float> d(mean, sd);
    std::vector<float> v(n);
    for (float& x : v) x = d(rng);
    return v;
  };
  const uint64_t dm = s.d_model, qd = uint64_t(s.heads) * s.head_dim, kvd = uint64_t(s.kv_heads) * s.head_dim;
  const std::string p = s.arch + ".";
  Gguf w;
  w.add_string("general.architecture", s.arch)
      .add_string("general.name", std::string("tiny-random-") + s.arch)
      .add_u32(p + "block_count", uint32_t(s.layers))
      .add_u32(p + "embedding_length", uint32_t(dm))
      .add_u32(p + "feed_forward_length", uint32_t(s.d_ff))
      .add_u32(p + "attention.head_count", uint32_t(s.heads))
      .add_u32(p + "attention.head_count_kv", uint32_t(s.kv_heads))
      .add_u32(p + "attention.key_length", uint32_t(s.head_dim))
      .add_u32(p + "attention.value_length", uint32_t(s.head_dim))
      .add_u32(p + "context_length", 8192)
      .add_f32(p + "attention.layer_norm_rms_epsilon", 1e-5f)
      .add_f32(p + "rope.freq_base", 10000.0f);
  if (!s.rope_scaling.empty()) {
    w.add_string(p + "rope.scaling.type", s.rope_scaling).add_f32(p + "rope.scaling.factor", 4.0f);
    if (s.rope_scaling == "yarn") w.add_u32(p + "rope.scaling.original_context_length", 1024);
  }
  const float in = 1.0f / std::sqrt(float(dm));
  w.add_f32_tensor("token_embd.weight", {dm, uint64_t(s.vocab)}, random(dm * s.vocab, 1.0f));
  w.add_f32_tensor("output_norm.weight", {dm}, random(dm, 0.1f, 1.0f));
  w.add_f32_tensor("output.weight", {dm, uint64_t(s.vocab)}, random(dm * s.vocab, in));
  for (int l = 0; l < s.layers; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    w.add_f32_tensor(b + "attn_norm.weight", {dm}, random(dm, 0.1f, 1.0f));
    w.add_f32_tensor(b + "attn_q.weight", {dm, qd}, random(dm * qd, 3.0f * in));
    w.add_f32_tensor(b + "attn_k.weight", {dm, kvd}, random(dm * kvd, 3.0f * in));
    w.add_f32_tensor(b + "attn_v.weight", {dm, kvd}, random(dm * kvd, in));
    if (s.arch == "qwen2") {
      w.add_f32_tensor(b + "attn_q.bias", {qd}, random(qd, 0.3f));
      w.add_f32_tensor(b + "attn_k.bias", {kvd}, random(kvd, 0.3f));
      w.add_f32_tensor(b + "attn_v.bias", {kvd}, random(kvd, 0.3f));
    }
    w.add_f32_tensor(b + "attn_output.weight", {qd, dm}, random(qd * dm, 1.0f / std::sqrt(float(qd))));
    w.add_f32_tensor(b + "ffn_norm.weight", {dm}, random(dm, 0.1f, 1.0f));
    w.add_f32_tensor(b + "ffn_gate.weight", {dm, uint64_t(s.d_ff)}, random(dm * s.d_ff, in));
    w.add_f32_tensor(b + "ffn_up.weight", {dm, uint64_t(s.d_ff)}, random(dm * s.d_ff, in));
    w.add_f32_tensor(b + "ffn_down.weight", {uint64_t(s.d_ff), dm}, random(s.d_ff * dm, 1.0f / std::sqrt(float(s.d_ff))));
  }
  return w.bytes();
}

}  // namespace adamas::test
