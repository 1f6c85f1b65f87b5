// The CUDA engine's kernels against the CPU's ops (tensor/ops_cpu.h, Rope) on fresh random inputs of
// odd sizes: RMSNorm, RoPE with every scaling and the KV-cache write layout, SwiGLU, the cuBLASLt
// product wrapper, the decode step's gemv (with its RMSNorm and SwiGLU fusions), argmax with ties, NLL rows, the embedding gather, conversions, the RoPE table and
// the growth of the device KV cache. Outputs are poisoned first, so an element left unwritten fails.
#include <cuda_bf16.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>

#include "attention/cuda/decode.h"
#include "cuda_util.h"
#include "model/cuda/gemm.h"
#include "model/cuda/gemv.h"
#include "model/cuda/kv_cache.h"
#include "model/cuda/logits.h"
#include "model/cuda/ops.h"
#include "model/cuda/rope_table.h"
#include "tensor/ops_cpu.h"
#include "model/rope.h"

using namespace adamas;
using namespace adamas::test;
using cuda::DType;

namespace {

// Bytes of device memory holding n elements of `type`, with a host twin for upload and download.
struct Typed {
  DType type;
  size_t n;
  cuda::DeviceArray<uint16_t> half;  // F16 / BF16
  cuda::DeviceArray<float> full;     // F32
  Typed(DType t, size_t count) : type(t), n(count) {
    if (t == DType::F32)
      full = cuda::DeviceArray<float>(count);
    else
      half = cuda::DeviceArray<uint16_t>(count);
  }
  void* get() const { return type == DType::F32 ? static_cast<void*>(full.get()) : static_cast<void*>(half.get()); }
  void poison() { type == DType::F32 ? full.fill_bytes(0xff) : half.fill_bytes(0xff); }
  std::vector<float> download() const;
};

float from_bits(DType t, uint16_t b) {
  if (t == DType::F16) {
    __half_raw r;
    r.x = b;
    return __half2float(__half(r));
  }
  __nv_bfloat16_raw r;
  r.x = b;
  return __bfloat162float(__nv_bfloat16(r));
}

uint16_t to_bits(DType t, float x) {
  if (t == DType::F16) return __half_raw(__float2half_rn(x)).x;
  return __nv_bfloat16_raw(__float2bfloat16_rn(x)).x;
}

// x rounded to `type` (identity for F32).
float round_to(DType t, float x) { return t == DType::F32 ? x : from_bits(t, to_bits(t, x)); }

std::vector<float> Typed::download() const {
  if (type == DType::F32) return full.download();
  const std::vector<uint16_t> bits = half.download();
  std::vector<float> out(bits.size());
  for (size_t i = 0; i < bits.size(); ++i) out[i] = from_bits(type, bits[i]);
  return out;
}

// Relative tolerance of one rounding to `type`, plus slack for fp32 reassociation.
double rounding_tol(DType t) { return t == DType::F16 ? 1.0e-3 : t == DType::BF16 ? 8.0e-3 : 2.0e-5; }

// The absolute part of the tolerance for outputs of `type`: below fp16's smallest normal (6.1e-5)
// the spacing is a constant 6e-8, and the ops round more than once (RMSNorm before the weight, as
// transformers does), so tiny fp16 outputs are held to ~1e-6 absolute rather than relative.
double abs_floor(DType t, double base) { return t == DType::F16 ? std::max(base, 1e-3) : base; }

// Fails unless every |got - want| <= tol * (|want| + floor_abs).
void check_close(const std::vector<float>& got, const std::vector<float>& want, double tol, double floor_abs,
                 const std::string& what, const char* file, int line) {
  size_t bad = 0, first = 0;
  double worst = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double diff = std::fabs(double(got[i]) - want[i]);
    const double err = diff == 0 ? 0 : diff / (std::fabs(want[i]) + floor_abs);
    if (!(err <= tol)) {
      if (!bad++) first = i;
      worst = std::isfinite(err) ? std::max(worst, err) : INFINITY;
    }
  }
  if (bad)
    fail(file, line,
         what + ": " + std::to_string(bad) + " of " + std::to_string(want.size()) + " elements off (first at " +
             std::to_string(first) + ": " + std::to_string(got[first]) + " vs " + std::to_string(want[first]) +
             ", worst relative error " + std::to_string(worst) + ", tolerance " + std::to_string(tol) + ")");
}
#define CHECK_CLOSE(got, want, tol, floor_abs, what) check_close(got, want, tol, floor_abs, what, __FILE__, __LINE__)

const DType kAllTypes[] = {DType::F32, DType::F16, DType::BF16};

}  // namespace

TEST(cuda_model_rmsnorm_matches_cpu) {
  if (!have_cuda_device()) return;
  std::mt19937 rng(101);
  for (int T : {1, 3, 17})
    for (int C : {1, 7, 576, 1001, 4096}) {
      const std::vector<float> x = random_floats(rng, size_t(T) * C, 2.0f), w = random_floats(rng, size_t(C), 1.0f);
      std::vector<float> want(x.size());
      cpu::rmsnorm(want.data(), x.data(), w.data(), T, C, 1e-5f);
      cuda::DeviceArray<float> dx(x), dw(w);
      for (DType t : kAllTypes) {
        Typed out(t, x.size());
        out.poison();
        ADAMAS_CUDA_CHECK(cuda::rmsnorm(out.get(), t, dx.get(), dw.get(), T, C, 1e-5f, nullptr));
        SYNC_CHECK();
        CHECK_CLOSE(out.download(), want, rounding_tol(t), abs_floor(t, 1e-6),
                    std::string("rmsnorm ") + cuda::dtype_name(t) + " T " + std::to_string(T) + " C " + std::to_string(C));
      }
    }
}

// RoPE of q and k with each scaling kind (and Llama 3.1 frequency factors), bias or not, positions
// from a host offset (prefill) or from device memory (decode); the KV cache written at exactly the
// positions of the tokens, every other element left as it was.
TEST(cuda_model_rope_qkv_matches_cpu_and_writes_the_cache_layout) {
  if (!have_cuda_device()) return;
  std::mt19937 rng(102);
  struct Case {
    const char* name;
    RopeConfig rope;
    bool freq_factors;
  };
  std::vector<Case> cases(4);
  cases[0] = {"default", {}, false};
  cases[1] = {"linear", {}, false};
  cases[1].rope.scaling = RopeScaling::Linear;
  cases[1].rope.factor = 4.0;
  cases[2] = {"yarn", {}, false};
  cases[2].rope.scaling = RopeScaling::Yarn;
  cases[2].rope.factor = 8.0;
  cases[2].rope.original_context = 4096;
  cases[3] = {"llama3.1 factors", {}, true};
  cases[3].rope.base = 500000.0;
  struct Shape {
    int H, KV, D;
  };
  for (const Case& c : cases)
    for (const Shape s : {Shape{5, 1, 64}, Shape{4, 2, 128}, Shape{3, 3, 64}})
      for (int variant = 0; variant < 3; ++variant) {  // 0: prefill q fp16 + bias; 1: prefill q fp32; 2: decode
        const bool from_device = variant == 2, bias = variant == 0;
        const DType q_type = variant == 0 ? DType::F16 : DType::F32;
        const int T = from_device ? 1 : 7, pos0 = from_device ? 3001 : 1000, capacity = pos0 + T + 5;
        const int half = s.D / 2, width = (s.H + 2 * s.KV) * s.D;
        std::vector<float> factors(half);
        for (float& f : factors) f = 1.0f + 7.0f * std::uniform_real_distribution<float>(0, 1)(rng);
        const Rope rope(c.rope, s.D, c.freq_factors ? factors.data() : nullptr);
        cuda::RopeTable table(rope, s.D);
        table.grow(capacity, nullptr);

        const std::vector<float> qkv = random_floats(rng, size_t(T) * width, 1.5f), b = random_floats(rng, width, 0.5f);
        cuda::DeviceArray<float> dqkv(qkv), db(b);
        cuda::DeviceArray<int32_t> dpos(std::vector<int32_t>{pos0});
        Typed q(q_type, size_t(T) * s.H * s.D);
        q.poison();
        cuda::DeviceArray<uint16_t> kc(size_t(s.KV) * capacity * s.D), vc(size_t(s.KV) * capacity * s.D);
        kc.fill_bytes(0xff);
        vc.fill_bytes(0xff);
        cuda::QkvArgs a;
        a.qkv = dqkv.get();
        a.bias = bias ? db.get() : nullptr;
        a.rope = table.get();
        a.pos_dev = from_device ? dpos.get() : nullptr;
        a.pos_offset = from_device ? 0 : pos0;
        a.q = q.get();
        a.q_type = q_type;
        a.k_cache = reinterpret_cast<__half*>(kc.get());
        a.v_cache = reinterpret_cast<__half*>(vc.get());
        a.head_stride = int64_t(capacity) * s.D;
        a.T = T;
        a.H = s.H;
        a.KV = s.KV;
        a.D = s.D;
        ADAMAS_CUDA_CHECK(cuda::rope_qkv(a, nullptr));
        SYNC_CHECK();

        // the CPU: bias, then Rope::rotate with Rope::angles of the position
        std::vector<float> want_q(size_t(T) * s.H * s.D), want_k(size_t(s.KV) * capacity * s.D, NAN),
            want_v(want_k.size(), NAN), cs(half), sn(half);
        for (int t = 0; t < T; ++t) {
          std::vector<float> row(qkv.begin() + size_t(t) * width, qkv.begin() + size_t(t + 1) * width);
          if (bias)
            for (int i = 0; i < width; ++i) row[i] += b[i];
          rope.angles(pos0 + t, cs.data(), sn.data());
          Rope::rotate(row.data(), s.H + s.KV, s.D, cs.data(), sn.data());
          std::copy_n(row.begin(), s.H * s.D, want_q.begin() + size_t(t) * s.H * s.D);
          for (int h = 0; h < s.KV; ++h)
            for (int d = 0; d < s.D; ++d) {
              const size_t at = (size_t(h) * capacity + pos0 + t) * s.D + d;
              want_k[at] = round_to(DType::F16, row[size_t(s.H + h) * s.D + d]);
              want_v[at] = round_to(DType::F16, row[size_t(s.H + s.KV + h) * s.D + d]);
            }
        }
        const std::string what = std::string(c.name) + " H " + std::to_string(s.H) + " KV " + std::to_string(s.KV) +
                                 " D " + std::to_string(s.D) + " variant " + std::to_string(variant);
        CHECK_CLOSE(q.download(), want_q, rounding_tol(q_type), abs_floor(q_type, 1e-5), "q, " + what);
        const std::vector<uint16_t> kb = kc.download(), vb = vc.download();
        size_t misplaced = 0;
        std::vector<float> got_k(kb.size()), got_v(vb.size()), k_ref, v_ref, k_got, v_got;
        for (size_t i = 0; i < kb.size(); ++i) {
          const bool written = !std::isnan(want_k[i]);
          if (!written) {  // untouched: still the poison pattern
            misplaced += kb[i] != 0xffff || vb[i] != 0xffff;
            continue;
          }
          k_ref.push_back(want_k[i]);
          v_ref.push_back(want_v[i]);
          k_got.push_back(from_bits(DType::F16, kb[i]));
          v_got.push_back(from_bits(DType::F16, vb[i]));
        }
        CHECK_EQ(misplaced, size_t(0));
        CHECK_CLOSE(k_got, k_ref, 1.0e-3, 1e-5, "k cache, " + what);
        CHECK_CLOSE(v_got, v_ref, 0.0, 0.0, "v cache, " + what);
      }
}

TEST(cuda_model_rope_table_is_rope_angles) {
  if (!have_cuda_device()) return;
  RopeConfig cfg;
  cfg.scaling = RopeScaling::Yarn;
  cfg.factor = 4.0;
  cfg.original_context = 2048;
  const Rope rope(cfg, 128, nullptr);
  cuda::RopeTable table(rope, 128);
  table.grow(100, nullptr);
  table.grow(333, nullptr);  // keeps the first 100, computes the rest
  CHECK_EQ(table.positions(), 333);
  std::vector<float2> got(size_t(333) * 64);
  ADAMAS_CUDA_CHECK(cudaMemcpy(got.data(), table.get(), got.size() * sizeof(float2), cudaMemcpyDeviceToHost));
  std::vector<float> c(64), s(64);
  size_t bad = 0;
  for (int p = 0; p < 333; ++p) {
    rope.angles(p, c.data(), s.data());
    for (int i = 0; i < 64; ++i) bad += got[size_t(p) * 64 + i].x != c[i] || got[size_t(p) * 64 + i].y != s[i];
  }
  CHECK_EQ(bad, size_t(0));
}

TEST(cuda_model_swiglu_matches_cpu) {
  if (!have_cuda_device()) return;
  std::mt19937 rng(103);
  for (int T : {1, 4})
    for (int F : {1, 37, 1001, 11008}) {
      const std::vector<float> gu = random_floats(rng, size_t(T) * 2 * F, 4.0f);
      std::vector<float> want(size_t(T) * F);
      for (int t = 0; t < T; ++t)
        cpu::swiglu(&want[size_t(t) * F], &gu[size_t(t) * 2 * F], &gu[size_t(t) * 2 * F + F], F);
      cuda::DeviceArray<float> dgu(gu);
      for (DType type : kAllTypes) {
        Typed h(type, want.size());
        h.poison();
        ADAMAS_CUDA_CHECK(cuda::swiglu(h.get(), type, dgu.get(), T, F, nullptr));
        SYNC_CHECK();
        CHECK_CLOSE(h.download(), want, rounding_tol(type), abs_floor(type, 1e-6),
                    std::string("swiglu ") + cuda::dtype_name(type) + " F " + std::to_string(F));
      }
    }
}

TEST(cuda_model_embedding_and_conversions_are_exact) {
  if (!have_cuda_device()) return;
  std::mt19937 rng(104);
  const int V = 1003, C = 77;
  const std::vector<float> table = random_floats(rng, size_t(V) * C, 1.0f);
  const std::vector<int32_t> tokens = {0, V - 1, 5, 5, 512};
  cuda::DeviceArray<int32_t> dtok(tokens);
  cuda::DeviceArray<float> dtable(table);
  for (DType type : {DType::F16, DType::BF16}) {
    Typed t16(type, table.size());
    ADAMAS_CUDA_CHECK(cuda::convert_from_f32(t16.get(), type, dtable.get(), int64_t(table.size()), nullptr));
    SYNC_CHECK();
    std::vector<float> rounded(table.size());
    for (size_t i = 0; i < table.size(); ++i) rounded[i] = round_to(type, table[i]);
    CHECK_CLOSE(t16.download(), rounded, 0.0, 0.0, std::string("convert to ") + cuda::dtype_name(type));
    cuda::DeviceArray<float> x(tokens.size() * C);
    x.fill_bytes(0xff);
    ADAMAS_CUDA_CHECK(cuda::embed_tokens(x.get(), t16.get(), type, dtok.get(), int(tokens.size()), C, nullptr));
    SYNC_CHECK();
    std::vector<float> want;
    for (int32_t tok : tokens) want.insert(want.end(), rounded.begin() + size_t(tok) * C, rounded.begin() + size_t(tok + 1) * C);
    CHECK_CLOSE(x.download(), want, 0.0, 0.0, std::string("embedding ") + cuda::dtype_name(type));
  }
  cuda::DeviceArray<int32_t> pos(std::vector<int32_t>{41});
  ADAMAS_CUDA_CHECK(cuda::advance_position(pos.get(), nullptr));
  SYNC_CHECK();
  CHECK_EQ(pos.download()[0], 42);
}

TEST(cuda_model_argmax_takes_the_first_maximum) {
  if (!have_cuda_device()) return;
  std::mt19937 rng(105);
  for (int V : {1, 5, 1000, 1025, 32000, 128256}) {
    for (int ties = 0; ties < 4; ++ties) {
      std::vector<float> x = random_floats(rng, size_t(V), 3.0f);
      if (ties > 0) {  // plant the maximum at several places (the last included), or everywhere
        std::uniform_int_distribution<int> at(0, V - 1);
        const float top = 100.0f;
        if (ties == 3) std::fill(x.begin(), x.end(), top);
        for (int k = 0; k < ties * 3; ++k) x[at(rng)] = top;
        x[V - 1] = top;
      }
      cuda::DeviceArray<float> dx(x);
      cuda::DeviceArray<int32_t> tok(1);
      tok.fill_bytes(0xff);
      ADAMAS_CUDA_CHECK(cuda::argmax(tok.get(), dx.get(), V, nullptr));
      SYNC_CHECK();
      CHECK_EQ(tok.download()[0], cpu::argmax(x.data(), V));
    }
  }
}

TEST(cuda_model_nll_rows_match_cpu_softmax) {
  if (!have_cuda_device()) return;
  std::mt19937 rng(106);
  for (int V : {2, 1003, 49152}) {
    const int rows = 7;
    const std::vector<float> logits = random_floats(rng, size_t(rows) * V, 6.0f);
    std::vector<int32_t> targets(rows);
    std::uniform_int_distribution<int> pick(0, V - 1);
    for (int32_t& t : targets) t = pick(rng);
    targets[0] = 0;
    targets[rows - 1] = V - 1;
    std::vector<float> want(rows);
    for (int r = 0; r < rows; ++r) {
      std::vector<float> row(logits.begin() + size_t(r) * V, logits.begin() + size_t(r + 1) * V);
      const float target = row[targets[r]];
      want[r] = float(cpu::softmax(row.data(), V) - target);
    }
    cuda::DeviceArray<float> dl(logits), out(rows);
    cuda::DeviceArray<int32_t> dt(targets);
    out.fill_bytes(0xff);
    ADAMAS_CUDA_CHECK(cuda::nll_rows(out.get(), dl.get(), dt.get(), rows, V, nullptr));
    SYNC_CHECK();
    CHECK_CLOSE(out.download(), want, 1e-5, 1.0, "nll V " + std::to_string(V));
  }
}

TEST(cuda_model_kv_cache_grows_keeping_positions) {
  if (!have_cuda_device()) return;
  const int L = 3, KV = 2, D = 64, keep = 100;
  cuda::DeviceKVCache cache(L, KV, D);
  cache.grow(256, 0, nullptr);
  CHECK_EQ(cache.capacity(), 256);
  // position p of head h of layer l holds the value l * 1000 + h * 300 + p / 4 (exact in fp16 only
  // for small values: use the bit pattern instead)
  auto pattern = [](int l, int side, int h, int p, int d) { return uint16_t((l * 7 + side * 3 + h) * 1000 + p * 3 + d % 3); };
  for (int l = 0; l < L; ++l)
    for (int side = 0; side < 2; ++side) {
      std::vector<uint16_t> host(size_t(KV) * 256 * D, 0);
      for (int h = 0; h < KV; ++h)
        for (int p = 0; p < 256; ++p)
          for (int d = 0; d < D; ++d) host[(size_t(h) * 256 + p) * D + d] = pattern(l, side, h, p, d);
      ADAMAS_CUDA_CHECK(cudaMemcpy(side ? cache.v(l) : cache.k(l), host.data(), host.size() * 2, cudaMemcpyHostToDevice));
    }
  cache.grow(1000, keep, nullptr);
  CHECK_EQ(cache.capacity(), 1000);
  CHECK_EQ(cache.layer(1).head_stride, int64_t(1000) * D);
  size_t bad = 0;
  for (int l = 0; l < L; ++l)
    for (int side = 0; side < 2; ++side) {
      std::vector<uint16_t> host(size_t(KV) * 1000 * D);
      ADAMAS_CUDA_CHECK(cudaMemcpy(host.data(), side ? cache.v(l) : cache.k(l), host.size() * 2, cudaMemcpyDeviceToHost));
      for (int h = 0; h < KV; ++h)
        for (int p = 0; p < keep; ++p)
          for (int d = 0; d < D; ++d) bad += host[(size_t(h) * 1000 + p) * D + d] != pattern(l, side, h, p, d);
    }
  CHECK_EQ(bad, size_t(0));
  CHECK_THROWS_WITH(cache.grow(1 << 30, keep, nullptr), "out of device memory: the KV cache for 1073741824 positions needs");
  CHECK_EQ(cache.capacity(), 1000);  // unchanged by the refusal
}

#if ADAMAS_WITH_CUBLAS
TEST(cuda_model_gemm_matches_cpu_matmul) {
  if (!have_cuda_device()) return;
  std::mt19937 rng(107);
  struct Shape {
    int M, N, K;
  };
  cuda::Gemm gemm(nullptr);
  for (const Shape s : {Shape{1, 1, 1}, Shape{1, 577, 333}, Shape{7, 129, 65}, Shape{33, 100, 1000}, Shape{130, 257, 96},
                        Shape{1, 4096, 4096}, Shape{300, 1536, 576}})
    for (DType in : {DType::F16, DType::BF16})
      for (DType out : {DType::F32, in})
        for (bool accumulate : {false, true}) {
          if (accumulate && out != DType::F32) continue;
          std::vector<float> x = random_floats(rng, size_t(s.M) * s.K, 1.0f), w = random_floats(rng, size_t(s.N) * s.K, 1.0f);
          for (float& v : x) v = round_to(in, v);
          for (float& v : w) v = round_to(in, v);
          const std::vector<float> c0 = random_floats(rng, size_t(s.M) * s.N, 1.0f);
          std::vector<float> want(c0.size());
          cpu::matmul(want.data(), x.data(), w.data(), nullptr, s.M, s.K, s.N);
          if (accumulate)
            for (size_t i = 0; i < want.size(); ++i) want[i] += c0[i];
          Typed dx(in, x.size()), dw(in, w.size()), dout(out, want.size());
          cuda::DeviceArray<float> fx(x), fw(w), fc0(c0);
          ADAMAS_CUDA_CHECK(cuda::convert_from_f32(dx.get(), in, fx.get(), int64_t(x.size()), nullptr));
          ADAMAS_CUDA_CHECK(cuda::convert_from_f32(dw.get(), in, fw.get(), int64_t(w.size()), nullptr));
          if (accumulate)
            ADAMAS_CUDA_CHECK(cudaMemcpy(dout.get(), fc0.get(), c0.size() * 4, cudaMemcpyDeviceToDevice));
          else
            dout.poison();
          gemm.run(dout.get(), out, dx.get(), dw.get(), in, s.M, s.N, s.K, accumulate);
          SYNC_CHECK();
          // fp32 sums of K products in another order: error ~ sqrt(K) ulps of the terms' size; a
          // 16-bit output may also carry cuBLASLt's split-K partial sums rounded to it (values of
          // size ~sqrt(K)), so it is held to its rounding of that scale
          const double floor_abs = std::sqrt(double(s.K)) * (out == DType::F32 ? 0.05 : 1.0);
          CHECK_CLOSE(dout.download(), want, std::max(rounding_tol(out), 1e-4), floor_abs,
                      "gemm " + std::to_string(s.M) + "x" + std::to_string(s.N) + "x" + std::to_string(s.K) + " " +
                          cuda::dtype_name(in) + "->" + cuda::dtype_name(out) + (accumulate ? " accumulate" : ""));
        }
  // pointers off the 256-byte alignment cuBLASLt assumes by default get a plan of their own
  const int M = 5, N = 33, K = 64;
  std::vector<float> x = random_floats(rng, size_t(M + 1) * K, 1.0f), w = random_floats(rng, size_t(N) * K, 1.0f);
  for (float& v : x) v = round_to(DType::F16, v);
  for (float& v : w) v = round_to(DType::F16, v);
  Typed dx(DType::F16, x.size()), dw(DType::F16, w.size());
  cuda::DeviceArray<float> fx(x), fw(w), dout(size_t(M) * N + 1);
  ADAMAS_CUDA_CHECK(cuda::convert_from_f32(dx.get(), DType::F16, fx.get(), int64_t(x.size()), nullptr));
  ADAMAS_CUDA_CHECK(cuda::convert_from_f32(dw.get(), DType::F16, fw.get(), int64_t(w.size()), nullptr));
  dout.fill_bytes(0xff);
  gemm.run(dout.get() + 1, DType::F32, static_cast<uint16_t*>(dx.get()) + K, dw.get(), DType::F16, M, N, K);
  SYNC_CHECK();
  std::vector<float> want(size_t(M) * N);
  cpu::matmul(want.data(), x.data() + K, w.data(), nullptr, M, K, N);
  std::vector<float> got = dout.download();
  got.erase(got.begin());
  CHECK_CLOSE(got, want, 1e-4, 0.4, "gemm on offset pointers");
}
#endif

// gemv against float64 sums of the same 16-bit weights and the fp32 input (normalised as
// cpu::rmsnorm, joined as cpu::swiglu): fp32 sums of K products in another order stay within
// ~sqrt(K) ulps of the terms' size.
TEST(cuda_model_gemv_matches_cpu) {
  if (!have_cuda_device()) return;
  std::mt19937 rng(211);
  struct Shape {
    int N, K;
  };
  for (const Shape s : {Shape{1, 8}, Shape{2, 8}, Shape{37, 72}, Shape{577, 584}, Shape{101, 1000}, Shape{960, 576},
                        Shape{4096, 4096}, Shape{3, 11008}})
    for (DType t : {DType::F16, DType::BF16})
      for (int mode = 0; mode < 4; ++mode) {  // plain, accumulate, norm, norm + swiglu
        const bool accumulate = mode == 1, norm = mode >= 2, swiglu = mode == 3;
        if (swiglu && s.N % 2) continue;
        std::vector<float> w = random_floats(rng, size_t(s.N) * s.K, 1.0f);
        for (float& v : w) v = round_to(t, v);
        const std::vector<float> x = random_floats(rng, size_t(s.K), 2.0f), g = random_floats(rng, size_t(s.K), 1.0f);
        const int rows_out = swiglu ? s.N / 2 : s.N;
        const std::vector<float> c0 = random_floats(rng, size_t(rows_out), 1.0f);
        std::vector<float> xs = x;
        if (norm) cpu::rmsnorm(xs.data(), x.data(), g.data(), 1, s.K, 1e-5f);
        std::vector<float> dot(static_cast<size_t>(s.N));
        for (int n = 0; n < s.N; ++n) {
          double acc = 0;
          for (int k = 0; k < s.K; ++k) acc += double(w[size_t(n) * s.K + k]) * xs[k];
          dot[n] = float(acc);
        }
        std::vector<float> want(static_cast<size_t>(rows_out));
        for (int i = 0; i < rows_out; ++i)
          want[i] = swiglu ? dot[i] / (1.0f + std::exp(-dot[i])) * dot[rows_out + i] : dot[i] + (accumulate ? c0[i] : 0.0f);
        Typed dw(t, w.size());
        cuda::DeviceArray<float> fw(w), dx(x), dg(g), out(c0);
        ADAMAS_CUDA_CHECK(cuda::convert_from_f32(dw.get(), t, fw.get(), int64_t(w.size()), nullptr));
        if (!accumulate) out.fill_bytes(0xff);
        cuda::GemvArgs a;
        a.out = out.get(), a.w = dw.get(), a.w_type = t, a.x = dx.get(), a.norm = norm ? dg.get() : nullptr;
        a.eps = 1e-5f, a.N = s.N, a.K = s.K, a.accumulate = accumulate, a.swiglu = swiglu;
        ADAMAS_CUDA_CHECK(cuda::gemv(a, nullptr));
        SYNC_CHECK();
        // swiglu multiplies two such sums: its terms' size is K
        CHECK_CLOSE(out.download(), want, 2e-5, 0.05 * (swiglu ? double(s.K) : std::sqrt(double(s.K))),
                    "gemv " + std::to_string(s.N) + "x" + std::to_string(s.K) + " " + cuda::dtype_name(t) +
                        (accumulate ? " accumulate" : "") + (norm ? " norm" : "") + (swiglu ? " swiglu" : ""));
      }
  // what it does not take: K off a multiple of 8, a swiglu that accumulates or has an odd N
  cuda::DeviceArray<float> x(16), out(16);
  cuda::DeviceArray<uint16_t> w(16 * 16);
  cuda::GemvArgs a;
  a.out = out.get(), a.w = w.get(), a.x = x.get(), a.N = 2, a.K = 12;
  CHECK_EQ(cuda::gemv(a, nullptr), cudaErrorInvalidValue);
  a.K = 8, a.swiglu = true, a.accumulate = true;
  CHECK_EQ(cuda::gemv(a, nullptr), cudaErrorInvalidValue);
  a.accumulate = false, a.N = 3;
  CHECK_EQ(cuda::gemv(a, nullptr), cudaErrorInvalidValue);
  a.N = 2, a.w_type = DType::F32;
  CHECK_EQ(cuda::gemv(a, nullptr), cudaErrorInvalidValue);
  CHECK(!cuda::gemv_supports(w.get(), x.get() + 1, 8));
  (void)cudaGetLastError();
}
