// Synthetic models: the presets' shapes, seeded weights with a trained model's scale (checked by
// their statistics), the CPU engine running the smallest preset through all 30 layers with finite
// logits, and the refusal of a preset whose weights do not fit in memory.
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "check.h"
#include "common/host.h"
#include "model/engine.h"
#include "model/synthetic.h"

using namespace adamas;

namespace {

// mean and standard deviation of a tensor
std::pair<double, double> moments(const Tensor& t) {
  double s = 0, ss = 0;
  for (float x : t) s += x, ss += double(x) * x;
  const double mean = s / double(t.size());
  return {mean, std::sqrt(ss / double(t.size()) - mean * mean)};
}

}  // namespace

TEST(synthetic_presets_have_the_real_shapes) {
  CHECK(is_synthetic_model("synthetic:llama2-7b") && !is_synthetic_model("model.gguf"));
  CHECK(synthetic_presets() == std::vector<std::string>({"llama2-7b", "llama3-8b", "smollm2-135m"}));
  const ModelConfig l2 = synthetic_config("synthetic:llama2-7b");
  CHECK(l2.n_layers == 32 && l2.d_model == 4096 && l2.n_heads == 32 && l2.n_kv_heads == 32 && l2.head_dim == 128);
  CHECK(l2.d_ff == 11008 && l2.vocab_size == 32000 && !l2.tied_embeddings);
  // 6.74e9 parameters in float32 (Llama-2-7B has 6,738,415,616)
  CHECK_EQ(synthetic_weight_bytes(l2), uint64_t(4) * 6738415616ull);
  const ModelConfig l3 = synthetic_config("synthetic:llama3-8b");
  CHECK(l3.n_heads == 32 && l3.n_kv_heads == 8 && l3.d_ff == 14336 && l3.vocab_size == 128256);
  CHECK_EQ(l3.rope.base, 500000.0);
  CHECK_EQ(synthetic_weight_bytes(l3), uint64_t(4) * 8030261248ull);  // Llama-3-8B: 8,030,261,248
  const ModelConfig s = synthetic_config("synthetic:smollm2-135m");
  CHECK(s.n_layers == 30 && s.d_model == 576 && s.n_heads == 9 && s.n_kv_heads == 3 && s.head_dim == 64);
  CHECK(s.d_ff == 1536 && s.vocab_size == 49152 && s.tied_embeddings);
  CHECK_EQ(synthetic_weight_bytes(s), uint64_t(4) * 134515008ull);  // SmolLM2-135M: 134,515,008
  CHECK_THROWS_WITH(synthetic_config("synthetic:gpt5"),
                    "unknown synthetic model 'synthetic:gpt5' (presets: synthetic:llama2-7b, synthetic:llama3-8b, "
                    "synthetic:smollm2-135m)");
}

TEST(synthetic_weights_are_seeded_and_scaled) {
  const ModelConfig c = synthetic_config("synthetic:smollm2-135m");
  const ModelWeights w = synthetic_weights(c, 7);
  uint64_t bytes = 4 * (w.token_embd.size() + w.output_norm.size() + w.output.size());
  for (const LayerWeights& L : w.layers)
    bytes += 4 * (L.attn_norm.size() + L.wq.size() + L.wk.size() + L.wv.size() + L.wo.size() + L.ffn_norm.size() +
                  L.w_gate.size() + L.w_up.size() + L.w_down.size());
  CHECK_EQ(bytes, synthetic_weight_bytes(c));
  CHECK(w.output.empty());  // tied
  const LayerWeights& L = w.layers[3];
  struct Expect {
    const Tensor* t;
    double sd;
  };
  for (const Expect& e : {Expect{&w.token_embd, 1 / std::sqrt(576.0)}, Expect{&L.wq, 1 / std::sqrt(576.0)},
                          Expect{&L.wo, 1 / std::sqrt(576.0)}, Expect{&L.w_down, 1 / std::sqrt(1536.0)}}) {
    const auto [mean, sd] = moments(*e.t);
    CHECK(std::fabs(mean) < 0.01 * e.sd);
    CHECK_NEAR(sd, e.sd, 0.01 * e.sd);
  }
  CHECK(L.attn_norm == Tensor(576, 1.0f));
  // tensors are drawn independently of one another; the same seed gives the same weights
  CHECK(std::memcmp(w.layers[0].wq.data(), w.layers[1].wq.data(), 4 * 100) != 0);
  const ModelWeights again = synthetic_weights(c, 7);
  CHECK(again.layers[29].w_up == w.layers[29].w_up && again.token_embd == w.token_embd);
  CHECK(synthetic_weights(c, 8).layers[0].wk != w.layers[0].wk);
}

TEST(synthetic_model_runs_on_the_cpu_engine) {
  EngineOptions opts;
  opts.seed = 3;
  const std::unique_ptr<Engine> e = make_engine("synthetic:smollm2-135m", opts);
  CHECK_EQ(e->config().name, std::string("synthetic:smollm2-135m"));
  const int V = e->config().vocab_size;
  std::vector<int32_t> prompt;
  for (int i = 0; i < 64; ++i) prompt.push_back(int32_t((i * 7919) % V));
  std::vector<float> first(static_cast<size_t>(V)), logits(first.size());
  AttentionOptions o;
  o.method = Method::Adamas;
  o.budget = 16;
  e->set_attention(o);
  int32_t t = e->prefill(prompt.data(), int(prompt.size()), first.data());
  for (int i = 0; i < 4; ++i) t = e->decode(t, logits.data());
  bool finite = true;
  double spread = 0;
  for (int i = 0; i < V; ++i) {
    finite = finite && std::isfinite(first[i]) && std::isfinite(logits[i]);
    spread = std::max(spread, std::fabs(double(logits[i]) - logits[0]));
  }
  CHECK(finite);
  CHECK(spread > 1e-3 && spread < 1e3);  // neither collapsed nor blown up after 30 layers
}

TEST(synthetic_model_that_does_not_fit_is_refused) {
  CHECK_THROWS_WITH(check_fits_in_memory("synthetic:llama2-7b on the CPU (float32 weights)", 26953662464ull,
                                         22000000000ull, "use --device cuda"),
                    "synthetic:llama2-7b on the CPU (float32 weights) needs 26953662464 bytes (27 GB) of host memory, "
                    "but 22000000000 bytes (22 GB) are available; use --device cuda");
  check_fits_in_memory("x", 10, 10, "");  // exactly enough
  const uint64_t need = synthetic_weight_bytes(synthetic_config("synthetic:llama3-8b"));
  if (available_memory_bytes() < need)
    CHECK_THROWS_WITH(make_engine("synthetic:llama3-8b", EngineOptions{}), "needs 32121044992 bytes");
  else
    std::fprintf(stderr, "  this machine has room for synthetic:llama3-8b on the CPU: the refusal is not exercised\n");
}
