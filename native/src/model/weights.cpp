#include "model/weights.h"

#include <string>

#include "common/error.h"
#include "gguf/dequant.h"

namespace adamas {

namespace {

std::string shape_text(const std::vector<uint64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

// llama.cpp's converter stores row (h, 2i + half) for Hugging Face row (h, half * D/2 + i).
Tensor unpermute_rows(const Tensor& w, int n_heads, int head_dim, int cols) {
  Tensor out(w.size());
  const int half = head_dim / 2;
  for (int h = 0; h < n_heads; ++h)
    for (int i = 0; i < half; ++i)
      for (int s = 0; s < 2; ++s) {
        const float* src = &w[(size_t(h) * head_dim + 2 * i + s) * cols];
        float* dst = &out[(size_t(h) * head_dim + s * half + i) * cols];
        std::copy(src, src + cols, dst);
      }
  return out;
}

}  // namespace

std::vector<WeightSpec> weight_specs(const ModelConfig& c) {
  const uint64_t dm = c.d_model, D = c.head_dim, q_dim = uint64_t(c.n_heads) * D,
                 kv_dim = uint64_t(c.n_kv_heads) * D, ff = c.d_ff, V = c.vocab_size;
  using R = WeightRole;
  std::vector<WeightSpec> s;
  s.push_back({R::TokenEmbd, -1, "token_embd.weight", {dm, V}});
  s.push_back({R::OutputNorm, -1, "output_norm.weight", {dm}});
  if (!c.tied_embeddings) s.push_back({R::Output, -1, "output.weight", {dm, V}});
  if (c.rope_freq_factors) s.push_back({R::RopeFreqs, -1, "rope_freqs.weight", {D / 2}});
  for (int l = 0; l < c.n_layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    s.push_back({R::AttnNorm, l, p + "attn_norm.weight", {dm}});
    s.push_back({R::Q, l, p + "attn_q.weight", {dm, q_dim}});
    s.push_back({R::K, l, p + "attn_k.weight", {dm, kv_dim}});
    s.push_back({R::V, l, p + "attn_v.weight", {dm, kv_dim}});
    s.push_back({R::O, l, p + "attn_output.weight", {q_dim, dm}});
    if (c.qkv_bias) {
      s.push_back({R::QBias, l, p + "attn_q.bias", {q_dim}});
      s.push_back({R::KBias, l, p + "attn_k.bias", {kv_dim}});
      s.push_back({R::VBias, l, p + "attn_v.bias", {kv_dim}});
    }
    s.push_back({R::FfnNorm, l, p + "ffn_norm.weight", {dm}});
    s.push_back({R::Gate, l, p + "ffn_gate.weight", {dm, ff}});
    s.push_back({R::Up, l, p + "ffn_up.weight", {dm, ff}});
    s.push_back({R::Down, l, p + "ffn_down.weight", {ff, dm}});
  }
  return s;
}

Tensor load_weight(const gguf::File& f, const ModelConfig& c, const WeightSpec& spec) {
  const gguf::TensorInfo& t = f.tensor(spec.name);
  if (t.shape != spec.shape)
    throw UnsupportedModel(f.path() + ": tensor '" + spec.name + "' has shape " + shape_text(t.shape) +
                           ", expected " + shape_text(spec.shape));
  Tensor out(t.n_elements);
  gguf::dequantize_tensor(t, out.data());
  if (c.qk_permuted) {
    const int cols = spec.shape.size() == 2 ? int(spec.shape[0]) : 1;
    if (spec.role == WeightRole::Q || spec.role == WeightRole::QBias)
      out = unpermute_rows(out, c.n_heads, c.head_dim, cols);
    if (spec.role == WeightRole::K || spec.role == WeightRole::KBias)
      out = unpermute_rows(out, c.n_kv_heads, c.head_dim, cols);
  }
  return out;
}

Tensor& weight_slot(ModelWeights& w, const WeightSpec& spec) {
  using R = WeightRole;
  switch (spec.role) {
    case R::TokenEmbd: return w.token_embd;
    case R::OutputNorm: return w.output_norm;
    case R::Output: return w.output;
    case R::RopeFreqs: return w.rope_freqs;
    default: break;
  }
  LayerWeights& L = w.layers.at(size_t(spec.layer));
  switch (spec.role) {
    case R::AttnNorm: return L.attn_norm;
    case R::Q: return L.wq;
    case R::K: return L.wk;
    case R::V: return L.wv;
    case R::O: return L.wo;
    case R::QBias: return L.bq;
    case R::KBias: return L.bk;
    case R::VBias: return L.bv;
    case R::FfnNorm: return L.ffn_norm;
    case R::Gate: return L.w_gate;
    case R::Up: return L.w_up;
    default: return L.w_down;
  }
}

ModelWeights load_weights(const gguf::File& f, const ModelConfig& c) {
  ModelWeights w;
  w.layers.resize(c.n_layers);
  for (const WeightSpec& spec : weight_specs(c)) weight_slot(w, spec) = load_weight(f, c, spec);
  return w;
}

}  // namespace adamas
