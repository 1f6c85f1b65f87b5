#include "model/synthetic.h"

#include <cmath>

#include "common/error.h"

namespace adamas {

namespace {

constexpr const char* kPrefix = "synthetic:";

struct Preset {
  const char* name;
  int layers, d_model, heads, kv_heads, head_dim, d_ff, vocab;
  double rope_base;
  bool tied;
};

const Preset kPresets[] = {
    {"llama2-7b", 32, 4096, 32, 32, 128, 11008, 32000, 10000.0, false},
    {"llama3-8b", 32, 4096, 32, 8, 128, 14336, 128256, 500000.0, false},
    {"smollm2-135m", 30, 576, 9, 3, 64, 1536, 49152, 100000.0, true},
};

// The longest context the benchmarks time (e2e at 128K): a synthetic model has no trained
// context to stay within.
constexpr int kContextLength = 131072;

uint64_t splitmix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// A value of mean 0 and standard deviation 1 per (stream, i), from one 64-bit hash: the sum of
// four 16-bit uniforms (Irwin-Hall, close to a normal, bounded by +-sqrt(12)). Counter-based, so
// the weights do not depend on the number of threads that draw them.
float unit_value(uint64_t stream, uint64_t i) {
  const uint64_t h = splitmix64(stream ^ splitmix64(i));
  float s = 0.0f;
  for (int j = 0; j < 4; ++j) s += float((h >> (16 * j)) & 0xffff) * (1.0f / 65536.0f);
  return (s - 2.0f + 2.0f / 65536.0f) * std::sqrt(3.0f);
}

Tensor random_tensor(uint64_t n, float sd, uint64_t seed, uint64_t& stream) {
  const uint64_t s = splitmix64(seed ^ splitmix64(++stream));
  Tensor t(static_cast<size_t>(n));
#pragma omp parallel for schedule(static) if (n > (1u << 16))
  for (int64_t i = 0; i < int64_t(n); ++i) t[size_t(i)] = sd * unit_value(s, uint64_t(i));
  return t;
}

Tensor ones(uint64_t n) { return Tensor(static_cast<size_t>(n), 1.0f); }

const Preset& preset(const std::string& model) {
  if (is_synthetic_model(model)) {
    const std::string name = model.substr(std::char_traits<char>::length(kPrefix));
    for (const Preset& p : kPresets)
      if (name == p.name) return p;
  }
  std::string names;
  for (const std::string& n : synthetic_presets()) names += (names.empty() ? "" : ", ") + std::string(kPrefix) + n;
  throw InvalidArgument("unknown synthetic model '" + model + "' (presets: " + names + ")");
}

}  // namespace

bool is_synthetic_model(const std::string& model) { return model.rfind(kPrefix, 0) == 0; }

std::vector<std::string> synthetic_presets() {
  std::vector<std::string> names;
  for (const Preset& p : kPresets) names.push_back(p.name);
  return names;
}

ModelConfig synthetic_config(const std::string& model) {
  const Preset& p = preset(model);
  ModelConfig c;
  c.arch = "llama";
  c.name = std::string(kPrefix) + p.name;
  c.n_layers = p.layers;
  c.d_model = p.d_model;
  c.n_heads = p.heads;
  c.n_kv_heads = p.kv_heads;
  c.head_dim = p.head_dim;
  c.d_ff = p.d_ff;
  c.vocab_size = p.vocab;
  c.context_length = kContextLength;
  c.rms_eps = 1e-5;
  c.rope.base = p.rope_base;
  c.tied_embeddings = p.tied;
  return c;  // weights are drawn in the rotate-half layout: nothing to unpermute
}

uint64_t synthetic_weight_bytes(const ModelConfig& c) {
  const uint64_t dm = c.d_model, qd = uint64_t(c.n_heads) * c.head_dim, kvd = uint64_t(c.n_kv_heads) * c.head_dim,
                 ff = c.d_ff, V = c.vocab_size;
  const uint64_t per_layer = 2 * dm + dm * qd * 2 + dm * kvd * 2 + 3 * dm * ff;
  return 4 * ((c.tied_embeddings ? 1 : 2) * V * dm + dm + uint64_t(c.n_layers) * per_layer);
}

// Each matrix N(0, 1 / fan_in)-like, so every output element has about the variance of one input
// element (as in a trained model's initialisation); embedding rows of norm about 1; norms of 1.
ModelWeights synthetic_weights(const ModelConfig& c, uint64_t seed) {
  const uint64_t dm = c.d_model, qd = uint64_t(c.n_heads) * c.head_dim, kvd = uint64_t(c.n_kv_heads) * c.head_dim,
                 ff = c.d_ff, V = c.vocab_size;
  const float in_dm = 1.0f / std::sqrt(float(dm)), in_qd = 1.0f / std::sqrt(float(qd)),
              in_ff = 1.0f / std::sqrt(float(ff));
  uint64_t stream = 0;  // one stream of values per tensor, in this order
  ModelWeights w;
  w.token_embd = random_tensor(V * dm, in_dm, seed, stream);
  w.output_norm = ones(dm);
  if (!c.tied_embeddings) w.output = random_tensor(V * dm, in_dm, seed, stream);
  w.layers.resize(size_t(c.n_layers));
  for (LayerWeights& L : w.layers) {
    L.attn_norm = ones(dm);
    L.wq = random_tensor(qd * dm, in_dm, seed, stream);
    L.wk = random_tensor(kvd * dm, in_dm, seed, stream);
    L.wv = random_tensor(kvd * dm, in_dm, seed, stream);
    L.wo = random_tensor(dm * qd, in_qd, seed, stream);
    L.ffn_norm = ones(dm);
    L.w_gate = random_tensor(ff * dm, in_dm, seed, stream);
    L.w_up = random_tensor(ff * dm, in_dm, seed, stream);
    L.w_down = random_tensor(dm * ff, in_ff, seed, stream);
  }
  return w;
}

}  // namespace adamas
