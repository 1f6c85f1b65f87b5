// Timings of the CUDA engine's heavy parts, printed, when ADAMAS_TEST_TIMING is set (they take a
// few seconds of a large GPU): the prefill attention kernel (TFLOP/s of the causal products), the
// prefill GEMMs and the decode GEMVs of a 7B layer (TFLOP/s, GB/s), and synthetic:llama2-7b end to
// end: 8K and 32K prefills (s) and the decode step after each (ms, against the bytes floor).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "attention/cuda/decode.h"
#include "attention/cuda/prefill.h"
#include "cuda_util.h"
#include "model/cuda/gemm.h"
#include "model/cuda/ops.h"
#include "model/engine.h"

using namespace adamas;
using namespace adamas::test;

namespace {

// Mean milliseconds of `reps` runs of fn on the default stream (after one warm-up run).
template <class F>
double time_ms(int reps, F fn) {
  fn();
  cudaEvent_t a, b;
  ADAMAS_CUDA_CHECK(cudaEventCreate(&a));
  ADAMAS_CUDA_CHECK(cudaEventCreate(&b));
  ADAMAS_CUDA_CHECK(cudaEventRecord(a));
  for (int i = 0; i < reps; ++i) fn();
  ADAMAS_CUDA_CHECK(cudaEventRecord(b));
  ADAMAS_CUDA_CHECK(cudaEventSynchronize(b));
  float ms = 0;
  ADAMAS_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return ms / reps;
}

// n fp16 values, a random block tiled over the buffer (the values do not change the timing).
cuda::DeviceArray<__half> filled(std::mt19937& rng, size_t n) {
  const HalfValues block = random_half(rng, size_t(1) << 20, 1.0f);
  cuda::DeviceArray<__half> d(n);
  for (size_t at = 0; at < n; at += block.dev.size())
    ADAMAS_CUDA_CHECK(cudaMemcpy(d.get() + at, block.dev.data(), std::min(block.dev.size(), n - at) * 2, cudaMemcpyHostToDevice));
  return d;
}

}  // namespace

TEST(cuda_model_timing) {
  if (!std::getenv("ADAMAS_TEST_TIMING")) {
    ::adamas::test::skip("set ADAMAS_TEST_TIMING=1 to time");
    return;
  }
  if (!have_cuda_device()) return;
  std::mt19937 rng(1);
  const int D = 128, cap = 32768;

  // prefill attention: the last 4K chunk of a 32K prompt, and 32K in one call
  for (int KV : {32, 8}) {
    const int H = 32;
    cuda::DeviceArray<__half> k = filled(rng, size_t(KV) * cap * D), v = filled(rng, size_t(KV) * cap * D);
    cuda::DeviceArray<__half> q = filled(rng, size_t(cap) * H * D), out(size_t(cap) * H * D);
    const cuda::DeviceKV kv{k.get(), v.get(), int64_t(cap) * D, KV, D};
    for (const int T : {4096, 32768}) {
      const int pos0 = cap - T;
      const double ms = time_ms(3, [&] {
        ADAMAS_CUDA_CHECK(cuda::prefill_attention(out.get(), q.get(), kv, H, T, pos0, 0.088f, nullptr));
      });
      const double flops = 4.0 * H * D * (double(T) * pos0 + double(T) * (T + 1) / 2);
      std::fprintf(stderr, "  prefill attention H 32 KV %d D 128, T %d at %d: %.3f ms, %.0f TFLOP/s\n", KV, T, pos0, ms,
                   flops / ms / 1e9);
    }
  }

#if ADAMAS_WITH_CUBLAS
  // a llama2-7b layer's products: prefill chunk (M = 4096) and decode (M = 1)
  struct Product {
    const char* name;
    int N, K;
    bool accumulate;
  };
  const Product products[] = {{"qkv", 12288, 4096, false}, {"o", 4096, 4096, true}, {"gate_up", 22016, 4096, false},
                              {"down", 4096, 11008, true}, {"lm_head", 32000, 4096, false}};
  cuda::Gemm gemm(nullptr);
  cuda::DeviceArray<__half> w = filled(rng, size_t(22016) * 11008), x = filled(rng, size_t(4096) * 11008);
  cuda::DeviceArray<float> y(size_t(4096) * 32000);
  for (const Product& p : products)
    for (const int M : {4096, 1}) {
      const double ms = time_ms(M == 1 ? 50 : 5, [&] {
        gemm.run(y.get(), cuda::DType::F32, x.get(), w.get(), cuda::DType::F16, M, p.N, p.K, p.accumulate);
      });
      const double flops = 2.0 * M * p.N * p.K, bytes = 2.0 * p.N * p.K;
      std::fprintf(stderr, "  gemm %-8s M %4d N %5d K %5d: %.3f ms, %.0f TFLOP/s, %.0f GB/s of weights\n", p.name, M,
                   p.N, p.K, ms, flops / ms / 1e9, bytes / ms / 1e6);
    }
  SYNC_CHECK();

  // synthetic:llama2-7b end to end
  size_t free_bytes = 0, total = 0;
  ADAMAS_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total));
  if (free_bytes < (size_t(40) << 30)) {
    std::fprintf(stderr, "  skipped llama2-7b end to end: %zu MiB free\n", free_bytes >> 20);
    return;
  }
  EngineOptions o;
  o.device = "cuda";
  auto e = make_engine("synthetic:llama2-7b", o);
  const int V = e->config().vocab_size;
  std::uniform_int_distribution<int32_t> tok(0, V - 1);
  std::vector<int32_t> prompt(32768);
  for (int32_t& t : prompt) t = tok(rng);
  e->reserve(32768 + 64);
  for (const int n : {8192, 32768}) {
    e->reset();
    const auto t0 = std::chrono::steady_clock::now();
    int32_t t = e->prefill(prompt.data(), n, nullptr);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::vector<double> steps;
    for (int i = 0; i < 16; ++i) {
      t = e->decode(t, nullptr);
      steps.push_back(e->last_decode_ms());
    }
    std::sort(steps.begin(), steps.end());
    // fp16 bytes read per token: the layers (6.476e9 parameters) and the LM head (32000 x 4096), the KV cache
    const double weights = 2.0 * 6.607e9, kv = 2.0 * 2 * 32 * 4096 * double(n);
    std::fprintf(stderr,
                 "  llama2-7b fp16: prefill %d tokens %.3f s; decode step at %d: median %.3f ms (weights + KV %.1f GB: "
                 "%.2f ms at 4.3 TB/s)\n",
                 n, s, n, steps[steps.size() / 2], (weights + kv) / 1e9, (weights + kv) / 4.3e9);
    CHECK(t >= 0 && t < V);
  }
#endif
}
