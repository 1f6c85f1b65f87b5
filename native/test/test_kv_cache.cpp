// The KV cache's element type (EngineOptions::kv_type): the CPU cache with f16 holds every key and
// value rounded to the nearest fp16 (round to nearest even), with f32 (the CPU's default) exactly
// what was written; the CPU engine with f16 gives logits that differ from f32's a little and the
// same bits on every run; values the backends do not take are refused naming the knob.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "check.h"
#include "engine_util.h"
#include "gguf_writer.h"
#include "model/engine.h"
#include "tensor/half.h"
#include "tensor/kv_cache.h"
#include "tiny_model.h"

using namespace adamas;
using adamas::test::method;
using adamas::test::random_tokens;
using adamas::test::step_logits;
using adamas::test::TempFile;
using adamas::test::tiny_model;
using adamas::test::TinyShape;

namespace {

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

const TinyShape kShape = {"llama GQA 4:2 D32", 3, 64, 4, 2, 32, 96, 101, "llama", ""};

std::unique_ptr<Engine> open(const std::string& path, const char* kv_type, const char* device = "cpu") {
  EngineOptions o;
  o.device = device;
  o.kv_type = kv_type;
  return make_engine(path, o);
}

}  // namespace

TEST(kv_cache_f16_stores_the_fp16_rounding_f32_the_value) {
  const int L = 2, KV = 3, D = 8, N = 300;  // past the first capacity (256): regrowth keeps the values
  KVCache f32(L, KV, D), f16(L, KV, D, true);
  CHECK(!f32.round_f16());
  CHECK(f16.round_f16());
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 4.0f);
  // values of every kind: ordinary ones, ties of fp16 (1 + 2^-11 rounds to even 1, 1 + 3*2^-11 up),
  // subnormal fp16s, past fp16's range (inf), zeros of both signs
  const float special[] = {1.0f + std::ldexp(1.0f, -11), 1.0f + 3 * std::ldexp(1.0f, -11), std::ldexp(1.5f, -25),
                           std::ldexp(1.0f, -20) * 1.3f, 70000.0f, -0.0f, 0.0f, 65504.0f};
  std::vector<float> k(size_t(L) * N * KV * D), v(k.size());
  for (size_t i = 0; i < k.size(); ++i) {
    k[i] = i % 17 < 8 ? special[i % 17] : normal(rng);
    v[i] = -normal(rng) * 0.01f;
  }
  for (int pos = 0; pos < N; ++pos) {
    f32.reserve(pos + 1);
    f16.reserve(pos + 1);
    for (int l = 0; l < L; ++l) {
      const size_t at = (size_t(l) * N + pos) * KV * D;
      f32.write(l, pos, &k[at], &v[at]);
      f16.write(l, pos, &k[at], &v[at]);
    }
    f32.set_length(pos + 1);
    f16.set_length(pos + 1);
  }
  int bad32 = 0, bad16 = 0, changed = 0;
  for (int l = 0; l < L; ++l) {
    const KVView a = f32.view(l, N), b = f16.view(l, N);
    for (int h = 0; h < KV; ++h)
      for (int pos = 0; pos < N; ++pos)
        for (int i = 0; i < D; ++i) {
          const size_t at = (size_t(l) * N + pos) * KV * D + size_t(h) * D + i;
          if (bits(a.key(h, pos)[i]) != bits(k[at]) || bits(a.value(h, pos)[i]) != bits(v[at])) ++bad32;
          const float kh = f16_to_f32(f32_to_f16(k[at])), vh = f16_to_f32(f32_to_f16(v[at]));
          if (bits(b.key(h, pos)[i]) != bits(kh) || bits(b.value(h, pos)[i]) != bits(vh)) ++bad16;
          if (bits(b.key(h, pos)[i]) != bits(k[at])) ++changed;
        }
  }
  CHECK_EQ(bad32, 0);
  CHECK_EQ(bad16, 0);
  CHECK(changed > 0);
  // the rounding itself, on the values above
  CHECK_EQ(round_to_f16(1.0f + std::ldexp(1.0f, -11)), 1.0f);
  CHECK_EQ(round_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)), 1.0f + std::ldexp(1.0f, -9));
  CHECK_EQ(round_to_f16(std::ldexp(1.5f, -25)), std::ldexp(1.0f, -24));
  CHECK_EQ(round_to_f16(70000.0f), std::numeric_limits<float>::infinity());
  CHECK_EQ(round_to_f16(65504.0f), 65504.0f);
  CHECK_EQ(bits(round_to_f16(-0.0f)), bits(-0.0f));
}

TEST(cpu_engine_kv_f16_differs_a_little_from_f32_and_repeats_its_bits) {
  TempFile file(tiny_model(kShape, 21));
  std::mt19937 rng(5);
  const std::vector<int32_t> prompt = random_tokens(rng, 70, kShape.vocab), next = random_tokens(rng, 20, kShape.vocab);
  const std::unique_ptr<Engine> def = open(file.path, ""), f32 = open(file.path, "f32"), f16 = open(file.path, "f16");
  for (const AttentionOptions& o : {AttentionOptions{}, method(Method::Adamas, 16), method(Method::Quest, 32)}) {
    for (Engine* e : {def.get(), f32.get(), f16.get()}) e->set_attention(o);
    const std::vector<float> a = step_logits(*def, prompt, next), b = step_logits(*f32, prompt, next),
                             c = step_logits(*f16, prompt, next);
    const std::string what = std::string(method_name(o.method));
    // f32 named is the default, bit for bit
    if (std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) != 0)
      adamas::test::fail(__FILE__, __LINE__, what + ": kv_type f32 differs from the default");
    // f16: other logits, close to f32's (fp16 keeps 11 significant bits)
    double worst = 0, scale = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      worst = std::max(worst, double(std::fabs(a[i] - c[i])));
      scale = std::max(scale, double(std::fabs(a[i])));
    }
    if (!(worst > 0)) adamas::test::fail(__FILE__, __LINE__, what + ": kv_type f16 gives f32's logits exactly");
    if (!(worst < 1e-2 * scale))
      adamas::test::fail(__FILE__, __LINE__, what + ": kv_type f16 differs from f32 by " + std::to_string(worst) +
                                                 " (logits up to " + std::to_string(scale) + ")");
    // and the same bits again
    const std::vector<float> again = step_logits(*f16, prompt, next);
    if (std::memcmp(again.data(), c.data(), c.size() * sizeof(float)) != 0)
      adamas::test::fail(__FILE__, __LINE__, what + ": kv_type f16 is not deterministic");
  }
}

TEST(kv_type_values_the_backends_do_not_take_are_refused) {
  TempFile file(tiny_model(kShape, 22));
  CHECK_THROWS_WITH(open(file.path, "f8"), "kv_type 'f8' is unknown (choices: f32, f16)");
  CHECK_THROWS_WITH(open(file.path, "F16"), "kv_type 'F16' is unknown");
  // the CUDA engine's kernels read an fp16 cache: refused before any device is touched, so the
  // same answer with or without a CUDA build
  CHECK_THROWS_WITH(open(file.path, "f32", "cuda"), "kv_type 'f32' is not supported by the CUDA engine");
  CHECK_THROWS_WITH(open(file.path, "bf16", "cuda"), "kv_type 'bf16' is unknown");
}
