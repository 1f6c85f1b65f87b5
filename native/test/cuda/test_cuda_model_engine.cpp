// The CUDA engine against the CPU engine through the Engine interface: random-weight models written
// as GGUF (llama with permuted q/k, qwen2 with biases, linear and YaRN RoPE, MHA and GQA, head_dim
// 64 and 128) give the CPU's logits, ppl NLL and greedy tokens within fp16's error; every method
// with a budget that covers the sequence is full attention bit for bit; sparse steps attending over
// the CPU's recorded selections give the CPU's logits; graph replay equals plain launches; the cache
// regrows, truncates and refuses what does not fit; synthetic models run. With ADAMAS_TEST_GGUF set
// to the default model (SmolLM2-135M-Instruct Q4_1), its golden prompts are checked the same way.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "../engine_util.h"
#include "../gguf_writer.h"
#include "../tiny_model.h"
#include "attention/cuda/decode.h"
#include "cuda_util.h"
#include "model/engine.h"

using namespace adamas;
using namespace adamas::test;

#if ADAMAS_WITH_CUBLAS

namespace {

const TinyShape kShapes[] = {
    {"llama MHA D64", 2, 128, 2, 2, 64, 192, 101, "llama", ""},
    {"qwen2 GQA 3 D64", 3, 192, 3, 1, 64, 256, 89, "qwen2", ""},
    {"llama GQA 4 D64 linear", 2, 512, 8, 2, 64, 384, 150, "llama", "linear"},
    {"llama GQA 2 D128 yarn", 2, 256, 2, 1, 128, 256, 97, "llama", "yarn"},
};

std::unique_ptr<Engine> open_engine(const std::string& model, const char* device, const char* weight_type = "f16") {
  EngineOptions o;
  o.device = device;
  o.weight_type = weight_type;
  return make_engine(model, o);
}

// The methods and ablations the CUDA backend takes, at budget B (pages of 4 where pages are used).
std::vector<AttentionOptions> cuda_methods(int B) {
  std::vector<AttentionOptions> out;
  out.push_back(method(Method::Streaming, B));
  AttentionOptions q = method(Method::Quest, B);
  q.page_size = 4;
  out.push_back(q);
  q.gqa = GqaSelection::PerKvHead;
  out.push_back(q);
  for (int variant = 0; variant < 4; ++variant) {
    AttentionOptions a = method(Method::Adamas, B);
    if (variant == 1) a.hadamard = false;
    if (variant == 2) a.distance = Distance::L2;
    if (variant == 3) a.gqa = GqaSelection::PerKvHead;
    out.push_back(a);
  }
  return out;
}

std::string describe(const AttentionOptions& o) {
  std::string s = std::string(method_name(o.method)) + "@" + std::to_string(o.budget);
  if (o.method == Method::Adamas) s += std::string(o.hadamard ? "" : " no-hadamard") + (o.distance == Distance::L2 ? " l2" : "");
  if (o.gqa == GqaSelection::PerKvHead) s += " gqa=kv";
  return s;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(double(a[i]) - b[i]);
    if (!(d <= m)) m = std::isnan(d) ? INFINITY : d;
  }
  return m;
}

// Top-1 minus top-2 of a row of logits.
double margin(const std::vector<float>& logits) {
  std::vector<float> s(logits);
  std::partial_sort(s.begin(), s.begin() + 2, s.end(), std::greater<float>());
  return double(s[0]) - s[1];
}

// Prefill of prompt, then teacher-forced decode of next: the logits after the prompt and after each
// decoded token, one row each.
std::vector<std::vector<float>> run(Engine& e, const std::vector<int32_t>& prompt, const std::vector<int32_t>& next) {
  const int V = e.config().vocab_size;
  std::vector<std::vector<float>> rows(next.size() + 1, std::vector<float>(static_cast<size_t>(V)));
  e.reset();
  e.prefill(prompt.data(), int(prompt.size()), rows[0].data());
  for (size_t i = 0; i < next.size(); ++i) e.decode(next[i], rows[i + 1].data());
  return rows;
}

#define CHECK_ROWS_NEAR(got, want, tol, what)                                                              \
  do {                                                                                                     \
    double worst_ = 0;                                                                                     \
    for (size_t i_ = 0; i_ < (want).size(); ++i_) worst_ = std::max(worst_, max_abs_diff((got)[i_], (want)[i_])); \
    if (!(worst_ <= (tol)))                                                                                \
      ::adamas::test::fail(__FILE__, __LINE__, std::string(what) + ": logits differ by " + std::to_string(worst_) + \
                                                   " (tolerance " + std::to_string(tol) + ")");            \
    std::fprintf(stderr, "  %s: max |logit difference| %.2e\n", std::string(what).c_str(), worst_);       \
  } while (0)

}  // namespace

// Tolerances on the tiny random models: their activations are rounded to fp16 (bf16) at every layer
// boundary and their logits reach ~10, so one rounding is ~5e-3 (4e-2) of a logit and a few add
// up; measured worst on the H200: 5.3e-2 (f16), 2.3e-1 (bf16). The default model's golden prompts
// are held to 5e-2 (cuda_engine_default_model_matches_cpu; measured there: up to 3.6e-2).
constexpr double kRandomModelTolF16 = 8e-2, kRandomModelTolBF16 = 3e-1;
// f32 weights: the CPU's weights exactly, and the prefill attention on fp32 queries (the decode
// kernel); what is left is the fp16 KV cache. Measured on the H200: 4.7e-3 to 7.8e-3 on the tiny
// models, 2.1e-2 on the YaRN one (logits near 10; 4.0e-2 with the fp16 prefill attention); the
// default model's golden prompts 6.8e-3 to 1.3e-2 at the last position (held to the issue's
// 2e-2), up to 2.1e-2 over the 16 decode steps after them (fp16 prefill attention).
constexpr double kRandomModelTolF32 = 4e-2, kDefaultModelTolF32 = 2e-2, kDefaultModelStepTolF32 = 3e-2;
// The default model, fp16: its Q4_1 blocks dequantised to fp16 round where the CPU's float32 do not,
// and every product takes fp16 inputs; the selftest's engine check holds the same bound.
constexpr double kDefaultModelTol = 5e-2;

TEST(cuda_engine_matches_cpu_on_random_models) {
  if (!have_cuda_device()) return;
  for (const TinyShape& s : kShapes) {
    TempFile file(tiny_model(s, 11));
    std::mt19937 rng(12);
    const std::vector<int32_t> prompt = random_tokens(rng, 37, s.vocab), next = random_tokens(rng, 20, s.vocab);
    auto cpu = open_engine(file.path, "cpu");
    const auto want = run(*cpu, prompt, next);
    for (const char* wt : {"f16", "bf16", "f32"}) {
      auto gpu = open_engine(file.path, "cuda", wt);
      CHECK_EQ(gpu->backend(), std::string("cuda"));
      CHECK_EQ(gpu->config().n_heads, s.heads);
      const auto got = run(*gpu, prompt, next);
      const double tol = std::strcmp(wt, "f16") == 0 ? kRandomModelTolF16 : std::strcmp(wt, "bf16") == 0 ? kRandomModelTolBF16 : kRandomModelTolF32;
      CHECK_ROWS_NEAR(got, want, tol, std::string(s.name) + " " + wt);
      CHECK(std::isfinite(gpu->last_decode_ms()) && gpu->last_decode_ms() > 0);
      CHECK_EQ(gpu->length(), int(prompt.size() + next.size()));
    }
  }
}

// 4500 tokens: two prefill chunks on the GPU (4096 + 404), the second over the cache of the first;
// the NLL of every next token and the logits after the last.
TEST(cuda_engine_long_prompt_nll_matches_cpu) {
  if (!have_cuda_device()) return;
  const TinyShape& s = kShapes[0];
  TempFile file(tiny_model(s, 21));
  std::mt19937 rng(22);
  const std::vector<int32_t> prompt = random_tokens(rng, 4500, s.vocab);
  const int n = int(prompt.size());
  std::vector<float> cpu_logits(size_t(s.vocab)), gpu_logits(size_t(s.vocab)), cpu_nll(size_t(n - 1)), gpu_nll(size_t(n - 1), NAN);
  auto cpu = open_engine(file.path, "cpu");
  const int32_t cpu_next = cpu->prefill(prompt.data(), n, cpu_logits.data(), cpu_nll.data());
  auto gpu = open_engine(file.path, "cuda");
  const int32_t gpu_next = gpu->prefill(prompt.data(), n, gpu_logits.data(), gpu_nll.data());
  CHECK_NEAR(max_abs_diff(gpu_logits, cpu_logits), 0.0, kRandomModelTolF16);
  CHECK_NEAR(max_abs_diff(gpu_nll, cpu_nll), 0.0, kRandomModelTolF16);
  double cpu_mean = 0, gpu_mean = 0;
  for (int i = 0; i < n - 1; ++i) cpu_mean += cpu_nll[i] / (n - 1), gpu_mean += gpu_nll[i] / (n - 1);
  CHECK_NEAR(gpu_mean, cpu_mean, 1e-3);
  if (margin(cpu_logits) > 0.05) CHECK_EQ(gpu_next, cpu_next);
  std::fprintf(stderr, "  mean NLL cpu %.6f cuda %.6f, max |nll difference| %.2e\n", cpu_mean, gpu_mean,
               max_abs_diff(gpu_nll, cpu_nll));
  // a second prefill continues the sequence: the same as the CPU doing the same
  const std::vector<int32_t> more = random_tokens(rng, 300, s.vocab);
  cpu->prefill(more.data(), int(more.size()), cpu_logits.data());
  gpu->prefill(more.data(), int(more.size()), gpu_logits.data());
  CHECK_NEAR(max_abs_diff(gpu_logits, cpu_logits), 0.0, kRandomModelTolF16);
  CHECK_EQ(gpu->length(), n + 300);
}

TEST(cuda_engine_methods_covering_the_sequence_are_full_attention) {
  if (!have_cuda_device()) return;
  for (const TinyShape& s : {kShapes[1], kShapes[2]}) {
    TempFile file(tiny_model(s, 31));
    std::mt19937 rng(32);
    const std::vector<int32_t> prompt = random_tokens(rng, 41, s.vocab), next = random_tokens(rng, 15, s.vocab);
    auto gpu = open_engine(file.path, "cuda");
    gpu->set_attention(method(Method::Full, 0));
    const auto full = run(*gpu, prompt, next);
    for (AttentionOptions o : cuda_methods(1000)) {
      o.measure_recall = true;
      o.record_selection = true;
      gpu->set_attention(o);
      const auto got = run(*gpu, prompt, next);
      bool same = true;
      for (size_t i = 0; i < got.size(); ++i) same = same && std::memcmp(got[i].data(), full[i].data(), got[i].size() * 4) == 0;
      if (!same) fail(__FILE__, __LINE__, std::string(s.name) + " " + describe(o) + ": logits differ from full attention");
      CHECK_EQ(gpu->records().size(), next.size());
      for (const StepRecord& r : gpu->records()) {
        for (float x : r.recall) CHECK(std::isnan(x));
        for (const auto& sel : r.selected) CHECK(sel.empty());
      }
    }
  }
}

// Sparse steps: the GPU attending over the CPU's recorded selections gives the CPU's logits; its own
// selections have the definitions' shape (streaming's exactly the CPU's), recall in [0, 1].
TEST(cuda_engine_sparse_steps_replay_cpu_selections) {
  if (!have_cuda_device()) return;
  for (const TinyShape& s : {kShapes[1], kShapes[3]}) {
    TempFile file(tiny_model(s, 41));
    std::mt19937 rng(42);
    const std::vector<int32_t> prompt = random_tokens(rng, 120, s.vocab), next = random_tokens(rng, 25, s.vocab);
    auto cpu = open_engine(file.path, "cpu");
    auto gpu = open_engine(file.path, "cuda");
    const int L = s.layers, H = s.heads, V = s.vocab;
    for (AttentionOptions o : cuda_methods(16)) {
      o.record_selection = true;
      o.measure_recall = true;
      cpu->set_attention(o);
      const auto want = run(*cpu, prompt, next);
      const std::vector<StepRecord> cpu_steps = cpu->records();

      gpu->set_attention(o);
      gpu->reset();
      std::vector<std::vector<float>> got(next.size() + 1, std::vector<float>(static_cast<size_t>(V)));
      gpu->prefill(prompt.data(), int(prompt.size()), got[0].data());
      for (size_t i = 0; i < next.size(); ++i) {
        gpu->replay_next(cpu_steps[i].selected);
        gpu->decode(next[i], got[i + 1].data());
      }
      CHECK_ROWS_NEAR(got, want, kRandomModelTolF16, std::string(s.name) + " " + describe(o) + " replaying the CPU's selections");
      for (size_t i = 0; i < next.size(); ++i)  // what the GPU attended to is what it was given
        for (int l = o.skip_layers; l < L; ++l)
          for (int h = 0; h < H; ++h)
            CHECK(gpu->records()[i].selected[size_t(l) * H + h] == cpu_steps[i].selected[size_t(l) * H + h]);

      // the GPU's own selections
      run(*gpu, prompt, next);
      size_t agree = 0, lists = 0;
      for (size_t i = 0; i < next.size(); ++i) {
        const StepRecord& r = gpu->records()[i];
        CHECK_EQ(r.position, int(prompt.size() + i));
        for (int l = 0; l < L; ++l)
          for (int h = 0; h < H; ++h) {
            const std::vector<int32_t>& sel = r.selected[size_t(l) * H + h];
            const float recall = r.recall[size_t(l) * H + h];
            if (l < o.skip_layers) {
              CHECK(sel.empty() && std::isnan(recall));
              continue;
            }
            CHECK(!sel.empty() && sel.back() == r.position && std::is_sorted(sel.begin(), sel.end()));
            CHECK(recall >= 0.0f && recall <= 1.0f + 1e-5f);
            ++lists;
            agree += sel == cpu_steps[i].selected[size_t(l) * H + h];
            if (o.method == Method::Streaming) CHECK(sel == cpu_steps[i].selected[size_t(l) * H + h]);
          }
      }
      std::fprintf(stderr, "  %s %s: %zu of %zu selections equal to the CPU's\n", s.name, describe(o).c_str(), agree, lists);
    }
  }
}

TEST(cuda_engine_graph_replay_equals_plain_launches) {
  if (!have_cuda_device()) return;
  const TinyShape& s = kShapes[2];
  TempFile file(tiny_model(s, 51));
  std::mt19937 rng(52);
  const std::vector<int32_t> prompt = random_tokens(rng, 200, s.vocab);
  auto greedy = [&](Engine& e, std::vector<float>* all) {
    std::vector<float> logits(size_t(s.vocab));
    e.set_attention(method(Method::Adamas, 32));
    int32_t t = e.prefill(prompt.data(), int(prompt.size()), logits.data());
    std::vector<int32_t> out;
    for (int i = 0; i < 12; ++i) {
      t = e.decode(t, logits.data());
      out.push_back(t);
      all->insert(all->end(), logits.begin(), logits.end());
    }
    return out;
  };
  setenv("ADAMAS_CUDA_GRAPHS", "0", 1);
  auto plain = open_engine(file.path, "cuda");
  unsetenv("ADAMAS_CUDA_GRAPHS");
  auto graphed = open_engine(file.path, "cuda");
  std::vector<float> a, b;
  CHECK(greedy(*plain, &a) == greedy(*graphed, &b));
  CHECK(a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
  CHECK(std::isfinite(graphed->last_decode_ms()));
}

TEST(cuda_engine_cache_regrows_truncates_and_refuses) {
  if (!have_cuda_device()) return;
  const TinyShape& s = kShapes[0];
  TempFile file(tiny_model(s, 61));
  std::mt19937 rng(62);
  const std::vector<int32_t> prompt = random_tokens(rng, 300, s.vocab), next = random_tokens(rng, 400, s.vocab);
  auto grown = open_engine(file.path, "cuda");
  auto reserved = open_engine(file.path, "cuda");
  for (Engine* e : {grown.get(), reserved.get()}) e->set_attention(method(Method::Quest, 32));
  reserved->reserve(2000);
  // the cache of `grown` is regrown several times while decoding; the sparse state is rebuilt each time
  CHECK_ROWS_NEAR(run(*grown, prompt, next), run(*reserved, prompt, next), 0.0, "regrown vs reserved cache");

  // truncate, then decode again: as a fresh engine given the kept tokens as its prompt
  const int keep = 250;
  std::vector<float> a(size_t(s.vocab)), b(size_t(s.vocab));
  grown->truncate(keep);
  CHECK_EQ(grown->length(), keep);
  auto fresh = open_engine(file.path, "cuda");
  fresh->set_attention(method(Method::Quest, 32));
  fresh->prefill(prompt.data(), keep, b.data());
  for (int i = 0; i < 10; ++i) {
    grown->decode(next[i], a.data());
    fresh->decode(next[i], b.data());
    CHECK_NEAR(max_abs_diff(a, b), 0.0, 1e-3);
  }

  CHECK_THROWS_WITH(grown->reserve(1 << 30), "out of device memory: the KV cache for");
  CHECK_EQ(grown->length(), keep + 10);
  grown->decode(next[0], a.data());  // still usable after the refusal
  AttentionOptions three_bits = method(Method::Adamas, 16);
  three_bits.bits = 3;
  CHECK_THROWS_WITH(grown->set_attention(three_bits), "bits 3");
  CHECK_THROWS_WITH(grown->decode(s.vocab, a.data()), "outside the vocabulary");
  CHECK_THROWS_WITH(grown->truncate(grown->length() + 1), "cannot truncate");
  CHECK_THROWS_WITH(grown->replay_next({{1}}), "lists");
  CHECK_THROWS_WITH(open_engine(file.path, "cuda", "f8"), "weight_type 'f8'");
}

// The default model: ADAMAS_TEST_GGUF=<path to SmolLM2-135M-Instruct.Q4_1.gguf>.
TEST(cuda_engine_default_model_matches_cpu) {
  if (!have_cuda_device()) return;
  const char* path = std::getenv("ADAMAS_TEST_GGUF");
  if (!path || !*path) {
    ::adamas::test::skip("ADAMAS_TEST_GGUF is not set");
    return;
  }
  // golden prompts (test/fixtures/golden): "The capital of France is", the planets chat, "1, 2, ..., 8,"
  const std::vector<int32_t> capital = {504, 3575, 282, 4649, 314};
  const std::vector<int32_t> planets = {1,    9690, 198,  2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 308, 34519, 28,
                                        7018, 411,  407,  19712, 8182, 2,   198,  1,    4093,  198,  5820, 260, 9244,  282,
                                        260,  3693, 817,  281,  1686, 30,  2,    198,  1,    520,   9531, 198};
  const std::vector<int32_t> counting = {33, 28, 216, 34, 28, 216, 35, 28, 216, 36, 28, 216,
                                         37, 28, 216, 38, 28, 216, 39, 28, 216, 40, 28};
  std::vector<int32_t> long_prompt;  // the chat, then seeded filler, then the counting: 1500 tokens
  std::mt19937 rng(71);
  long_prompt.insert(long_prompt.end(), planets.begin(), planets.end());
  const std::vector<int32_t> filler = random_tokens(rng, 1500 - int(planets.size() + counting.size()), 49152, 17);
  long_prompt.insert(long_prompt.end(), filler.begin(), filler.end());
  long_prompt.insert(long_prompt.end(), counting.begin(), counting.end());

  auto cpu = open_engine(path, "cpu");
  auto gpu = open_engine(path, "cuda");
  auto gpu_bf16 = open_engine(path, "cuda", "bf16");
  auto gpu_f32 = open_engine(path, "cuda", "f32");
  const int V = cpu->config().vocab_size;
  for (const std::vector<int32_t>* prompt : {&capital, &planets, &counting, static_cast<const std::vector<int32_t>*>(&long_prompt)}) {
    const int n = int(prompt->size());
    std::vector<float> cl(static_cast<size_t>(V)), gl(static_cast<size_t>(V)), bl(static_cast<size_t>(V)), fl(static_cast<size_t>(V));
    int32_t ct = cpu->prefill(prompt->data(), n, cl.data()), gt = gpu->prefill(prompt->data(), n, gl.data());
    gpu_bf16->prefill(prompt->data(), n, bl.data());
    gpu_f32->prefill(prompt->data(), n, fl.data());
    std::fprintf(stderr, "  %d-token prompt: max |logit difference| f16 %.2e, bf16 %.2e, f32 %.2e; top-1 margin %.3f\n", n,
                 max_abs_diff(gl, cl), max_abs_diff(bl, cl), max_abs_diff(fl, cl), margin(cl));
    CHECK_NEAR(max_abs_diff(gl, cl), 0.0, kDefaultModelTol);  // measured on an H200: up to 3.6e-2
    CHECK_NEAR(max_abs_diff(bl, cl), 0.0, 0.5);  // bf16: 8 bits of mantissa, a sanity bound
    CHECK_NEAR(max_abs_diff(fl, cl), 0.0, kDefaultModelTolF32);
    // greedy continuation of 16 tokens: equal while the CPU's top-1 margin is large
    bool compared_all = true;
    for (int i = 0; i < 16; ++i) {
      if (margin(cl) < 0.1) {
        compared_all = false;
        std::fprintf(stderr, "  greedy: stopped comparing at step %d (CPU top-1 margin %.3f)\n", i, margin(cl));
        break;
      }
      CHECK_EQ(gt, ct);
      if (gt != ct) break;
      gpu_f32->decode(ct, fl.data());  // the CPU's token, whatever f32's own top-1
      ct = cpu->decode(ct, cl.data());
      gt = gpu->decode(gt, gl.data());
      CHECK_NEAR(max_abs_diff(gl, cl), 0.0, kDefaultModelTol);
      CHECK_NEAR(max_abs_diff(fl, cl), 0.0, kDefaultModelStepTolF32);
    }
    if (compared_all) std::fprintf(stderr, "  greedy: 16 tokens equal\n");
    cpu->reset();
    gpu->reset();
    gpu_bf16->reset();
    gpu_f32->reset();
  }
  // perplexity rows of the long prompt
  const int n = int(long_prompt.size());
  std::vector<float> cn(size_t(n - 1)), gn(size_t(n - 1));
  cpu->prefill(long_prompt.data(), n, nullptr, cn.data());
  gpu->prefill(long_prompt.data(), n, nullptr, gn.data());
  CHECK_NEAR(max_abs_diff(gn, cn), 0.0, kDefaultModelTol);
}

TEST(cuda_engine_synthetic_models_run) {
  if (!have_cuda_device()) return;
  std::mt19937 rng(81);
  size_t free_bytes = 0, total = 0;
  ADAMAS_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total));
  for (const char* model : {"synthetic:smollm2-135m", "synthetic:llama3-8b", "synthetic:llama2-7b"}) {
    if (std::strcmp(model, "synthetic:smollm2-135m") != 0 && free_bytes < (size_t(24) << 30)) {
      std::fprintf(stderr, "  skipped %s: %zu MiB free\n", model, free_bytes >> 20);
      continue;
    }
    // prefill logits of a 1000-token prompt with weights of seed 5, 5 again and 6 (one engine at a time)
    std::vector<std::vector<float>> first(3);
    std::vector<int32_t> prompt;
    const uint64_t seeds[] = {5, 5, 6};
    for (int k = 0; k < 3; ++k) {
      EngineOptions o;
      o.device = "cuda";
      o.seed = seeds[k];
      auto e = make_engine(model, o);
      const int V = e->config().vocab_size;
      if (prompt.empty()) prompt = random_tokens(rng, 1000, V);
      first[k].resize(static_cast<size_t>(V));
      int32_t t = e->prefill(prompt.data(), int(prompt.size()), first[k].data());
      for (float x : first[k]) CHECK(std::isfinite(x));
      if (k > 0) continue;
      std::vector<float> logits(static_cast<size_t>(V));
      for (int i = 0; i < 4; ++i) t = e->decode(t, logits.data());
      for (float x : logits) CHECK(std::isfinite(x));
      CHECK(e->last_decode_ms() > 0);
      std::fprintf(stderr, "  %s: decode step %.3f ms at %d tokens\n", model, e->last_decode_ms(), e->length());
    }
    CHECK(std::memcmp(first[0].data(), first[1].data(), first[0].size() * 4) == 0);
    CHECK(std::memcmp(first[0].data(), first[2].data(), first[0].size() * 4) != 0);
  }
}

#else

TEST(cuda_engine_needs_cublas) {
  ::adamas::test::skip("this build has no cuBLAS, so no CUDA engine");
}

#endif
