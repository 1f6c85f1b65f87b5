// The CUDA engine's weights: a model written in each GGUF type (F32, F16, BF16, Q8_0, Q4_0, Q4_1;
// llama with permuted q/k rows, qwen2 with q/k/v biases) uploaded tensor by tensor must hold, bit
// for bit, the CPU loader's float32 weights rounded to fp16 (bf16), in the engine's concatenated
// layouts; synthetic weights drawn on the device are reproducible from the seed and have the
// scales they promise.
#include <cuda_bf16.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>

#include "../gguf_writer.h"
#include "attention/cuda/decode.h"
#include "cuda_util.h"
#include "gguf/dequant.h"
#include "model/config.h"
#include "model/cuda/weights.h"
#include "model/weights.h"

using namespace adamas;
using namespace adamas::test;
using cuda::DType;
using gguf::TensorType;

namespace {

struct Tiny {
  int layers = 2, d_model = 128, heads = 2, kv_heads = 1, head_dim = 64, d_ff = 96, vocab = 37;
};

// Encoded bytes of n random elements of `type` (valid blocks: finite scales, any quants).
std::vector<uint8_t> random_encoded(TensorType type, size_t n, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 0.5f);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> scale(0.001f, 0.02f);
  std::vector<uint8_t> out;
  auto put16 = [&out](uint16_t v) {
    out.push_back(uint8_t(v & 0xff));
    out.push_back(uint8_t(v >> 8));
  };
  switch (type) {
    case TensorType::F32:
      for (size_t i = 0; i < n; ++i) {
        const float v = normal(rng);
        const auto* p = reinterpret_cast<const uint8_t*>(&v);
        out.insert(out.end(), p, p + 4);
      }
      break;
    case TensorType::F16:
      for (size_t i = 0; i < n; ++i) put16(gguf::f32_to_f16(normal(rng)));
      break;
    case TensorType::BF16:
      for (size_t i = 0; i < n; ++i) {
        const float v = normal(rng);
        uint32_t u;
        std::memcpy(&u, &v, 4);
        put16(uint16_t(u >> 16));
      }
      break;
    case TensorType::Q8_0:
    case TensorType::Q4_0:
    case TensorType::Q4_1: {
      const size_t quant_bytes = type == TensorType::Q8_0 ? 32 : 16;
      for (size_t b = 0; b < n / 32; ++b) {
        put16(gguf::f32_to_f16(scale(rng)));
        if (type == TensorType::Q4_1) put16(gguf::f32_to_f16(-8.0f * scale(rng)));
        for (size_t j = 0; j < quant_bytes; ++j) out.push_back(uint8_t(byte(rng)));
      }
      break;
    }
  }
  return out;
}

// A model whose matrices are all of `type` (norms and biases F32, as converters write them).
std::vector<uint8_t> tiny_model(const std::string& arch, TensorType type, const Tiny& s, std::mt19937& rng) {
  const uint64_t dm = s.d_model, qd = uint64_t(s.heads) * s.head_dim, kvd = uint64_t(s.kv_heads) * s.head_dim;
  const std::string p = arch + ".";
  Gguf g;
  g.add_string("general.architecture", arch)
      .add_u32(p + "block_count", uint32_t(s.layers))
      .add_u32(p + "embedding_length", uint32_t(dm))
      .add_u32(p + "feed_forward_length", uint32_t(s.d_ff))
      .add_u32(p + "attention.head_count", uint32_t(s.heads))
      .add_u32(p + "attention.head_count_kv", uint32_t(s.kv_heads))
      .add_u32(p + "context_length", 2048)
      .add_f32(p + "attention.layer_norm_rms_epsilon", 1e-6f);
  auto matrix = [&](const std::string& name, uint64_t cols, uint64_t rows) {
    g.tensors.push_back(TensorSpec{name, uint32_t(type), {cols, rows}, random_encoded(type, cols * rows, rng), {}, std::nullopt});
  };
  auto vec = [&](const std::string& name, uint64_t n) {
    g.tensors.push_back(TensorSpec{name, uint32_t(TensorType::F32), {n}, random_encoded(TensorType::F32, n, rng), {}, std::nullopt});
  };
  matrix("token_embd.weight", dm, uint64_t(s.vocab));
  vec("output_norm.weight", dm);
  matrix("output.weight", dm, uint64_t(s.vocab));
  for (int l = 0; l < s.layers; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    vec(b + "attn_norm.weight", dm);
    matrix(b + "attn_q.weight", dm, qd);
    matrix(b + "attn_k.weight", dm, kvd);
    matrix(b + "attn_v.weight", dm, kvd);
    if (arch == "qwen2") {
      vec(b + "attn_q.bias", qd);
      vec(b + "attn_k.bias", kvd);
      vec(b + "attn_v.bias", kvd);
    }
    matrix(b + "attn_output.weight", qd, dm);
    vec(b + "ffn_norm.weight", dm);
    matrix(b + "ffn_gate.weight", dm, uint64_t(s.d_ff));
    matrix(b + "ffn_up.weight", dm, uint64_t(s.d_ff));
    matrix(b + "ffn_down.weight", uint64_t(s.d_ff), dm);
  }
  return g.bytes();
}

uint16_t bits16(DType t, float x) {
  return t == DType::F16 ? __half_raw(__float2half_rn(x)).x : __nv_bfloat16_raw(__float2bfloat16_rn(x)).x;
}

std::vector<uint16_t> rounded(DType t, std::initializer_list<const Tensor*> parts) {
  std::vector<uint16_t> out;
  for (const Tensor* p : parts)
    for (float x : *p) out.push_back(bits16(t, x));
  return out;
}

std::vector<float> joined(std::initializer_list<const Tensor*> parts) {
  std::vector<float> out;
  for (const Tensor* p : parts) out.insert(out.end(), p->begin(), p->end());
  return out;
}

template <class T>
std::vector<T> download(const cuda::DeviceBuffer& b) {
  std::vector<T> out(b.bytes() / sizeof(T));
  ADAMAS_CUDA_CHECK(cudaMemcpy(out.data(), b.get(), b.bytes(), cudaMemcpyDeviceToHost));
  return out;
}

// Fails with the name unless the device buffer holds exactly `want`.
template <class T>
void check_same(const cuda::DeviceBuffer& got, const std::vector<T>& want, const std::string& what, const char* file,
                int line) {
  const std::vector<T> g = download<T>(got);
  size_t diff = g.size() == want.size() ? 0 : want.size() + 1;
  for (size_t i = 0; diff == 0 && i < want.size(); ++i)
    if (std::memcmp(&g[i], &want[i], sizeof(T)) != 0) diff = i + 1;
  if (diff) fail(file, line, what + ": differs" + (g.size() == want.size() ? " at element " + std::to_string(diff - 1) : " in size"));
}
#define CHECK_SAME(got, want, what) check_same(got, want, what, __FILE__, __LINE__)

}  // namespace

TEST(cuda_model_weights_upload_every_gguf_type) {
  if (!have_cuda_device()) return;
  std::mt19937 rng(301);
  const Tiny s;
  for (const std::string arch : {"llama", "qwen2"})
    for (TensorType type : {TensorType::F32, TensorType::F16, TensorType::BF16, TensorType::Q8_0, TensorType::Q4_0,
                            TensorType::Q4_1}) {
      TempFile file(tiny_model(arch, type, s, rng));
      auto f = gguf::File::open(file.path);
      const ModelConfig cfg = read_model_config(*f);
      CHECK_EQ(cfg.qk_permuted, arch == "llama");
      CHECK_EQ(cfg.qkv_bias, arch == "qwen2");
      const ModelWeights cpu = load_weights(*f, cfg);
      for (DType dt : {DType::F16, DType::BF16}) {
        const cuda::DeviceWeights w = cuda::upload_weights(*f, cfg, dt, nullptr);
        const std::string what = arch + " " + gguf::tensor_type_name(uint32_t(type)) + " as " + cuda::dtype_name(dt);
        size_t bytes = w.token_embd.bytes() + w.output.bytes() + w.output_norm.bytes();
        CHECK_SAME(w.token_embd, rounded(dt, {&cpu.token_embd}), what + ": token_embd");
        CHECK_SAME(w.output, rounded(dt, {&cpu.output}), what + ": output");
        CHECK_SAME(w.output_norm, cpu.output_norm, what + ": output_norm");
        CHECK(w.rope_freqs.empty());
        for (int l = 0; l < cfg.n_layers; ++l) {
          const LayerWeights& c = cpu.layers[l];
          const cuda::DeviceLayerWeights& d = w.layers[l];
          const std::string at = what + ", layer " + std::to_string(l) + ": ";
          CHECK_SAME(d.attn_norm, c.attn_norm, at + "attn_norm");
          CHECK_SAME(d.wqkv, rounded(dt, {&c.wq, &c.wk, &c.wv}), at + "q/k/v rows");
          if (cfg.qkv_bias) CHECK_SAME(d.bqkv, joined({&c.bq, &c.bk, &c.bv}), at + "q/k/v biases");
          CHECK(bool(d.bqkv) == cfg.qkv_bias);
          CHECK_SAME(d.wo, rounded(dt, {&c.wo}), at + "attn_output");
          CHECK_SAME(d.ffn_norm, c.ffn_norm, at + "ffn_norm");
          CHECK_SAME(d.w_gate_up, rounded(dt, {&c.w_gate, &c.w_up}), at + "gate/up rows");
          CHECK_SAME(d.w_down, rounded(dt, {&c.w_down}), at + "ffn_down");
          bytes += d.attn_norm.bytes() + d.wqkv.bytes() + d.bqkv.bytes() + d.wo.bytes() + d.ffn_norm.bytes() +
                   d.w_gate_up.bytes() + d.w_down.bytes();
        }
        CHECK_EQ(bytes, cuda::device_weight_bytes(cfg, dt));
      }
    }
}

TEST(cuda_model_random_weights_reproducible_and_scaled) {
  if (!have_cuda_device()) return;
  ModelConfig cfg;
  cfg.arch = "llama";
  cfg.n_layers = 2;
  cfg.d_model = 256;
  cfg.n_heads = 4;
  cfg.n_kv_heads = 2;
  cfg.head_dim = 64;
  cfg.d_ff = 384;
  cfg.vocab_size = 500;
  for (DType dt : {DType::F16, DType::BF16}) {
    const cuda::DeviceWeights a = cuda::random_weights(cfg, dt, 7, nullptr), b = cuda::random_weights(cfg, dt, 7, nullptr),
                              c = cuda::random_weights(cfg, dt, 8, nullptr);
    CHECK(download<uint16_t>(a.layers[1].wqkv) == download<uint16_t>(b.layers[1].wqkv));
    CHECK(download<uint16_t>(a.layers[1].wqkv) != download<uint16_t>(c.layers[1].wqkv));
    CHECK(download<uint16_t>(a.layers[0].w_down) != download<uint16_t>(a.layers[1].w_down));  // a stream per tensor
    auto sd_of = [dt](const cuda::DeviceBuffer& buf, size_t* non_finite) {
      double sum = 0, sq = 0;
      const std::vector<uint16_t> bits = download<uint16_t>(buf);
      for (uint16_t u : bits) {
        float x;
        if (dt == DType::F16) {
          __half_raw r;
          r.x = u;
          x = __half2float(__half(r));
        } else {
          __nv_bfloat16_raw r;
          r.x = u;
          x = __bfloat162float(__nv_bfloat16(r));
        }
        *non_finite += !std::isfinite(x);
        sum += x;
        sq += double(x) * x;
      }
      const double n = double(bits.size()), mean = sum / n;
      return std::sqrt(sq / n - mean * mean);
    };
    size_t non_finite = 0;
    CHECK_NEAR(sd_of(a.token_embd, &non_finite), 1.0, 0.05);
    CHECK_NEAR(sd_of(a.layers[0].wqkv, &non_finite), 1.0 / 16, 0.05 / 16);    // fan-in 256
    CHECK_NEAR(sd_of(a.layers[0].wo, &non_finite), 1.0 / 16, 0.05 / 16);      // fan-in 4 * 64
    CHECK_NEAR(sd_of(a.layers[0].w_down, &non_finite), 1.0 / std::sqrt(384.0), 0.05 / std::sqrt(384.0));
    CHECK_EQ(non_finite, size_t(0));
    for (float x : download<float>(a.layers[1].ffn_norm)) CHECK_EQ(x, 1.0f);
  }
}
