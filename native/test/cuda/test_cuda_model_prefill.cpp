// The CUDA causal prefill attention against cpu::attend_prefill on the same fp16 q, K and V: GQA
// groups 1, 3, 4 and 8, head_dim 64 and 128, chunk lengths that are not multiples of the 128-query
// or the key tiles, chunks starting past 0 over a cache that holds earlier positions, fp16 and bf16
// outputs. The output is poisoned first, so a row left unwritten fails.
#include <cuda_bf16.h>

#include <cmath>
#include <random>
#include <string>

#include "attention/cpu/attend.h"
#include "attention/cuda/decode.h"
#include "attention/cuda/prefill.h"
#include "cuda_util.h"

using namespace adamas;
using namespace adamas::test;

namespace {

struct Shape {
  int H, KV, D;
};

// q [T][H][D] on the device as fp16 and its floats; returns the GPU output as floats.
std::vector<float> gpu_prefill(const TestKV& kv, const HalfValues& q, int H, int T, int pos0, bool bf16_out) {
  const float scale = 1.0f / std::sqrt(float(kv.D));
  cuda::DeviceArray<__half> dq(q.dev);
  const size_t n = size_t(T) * H * kv.D;
  std::vector<float> out(n);
  if (bf16_out) {
    cuda::DeviceArray<__nv_bfloat16> d(n);
    d.fill_bytes(0xff);
    ADAMAS_CUDA_CHECK(cuda::prefill_attention(d.get(), dq.get(), kv.device(), H, T, pos0, scale, nullptr));
    ADAMAS_CUDA_CHECK(cudaDeviceSynchronize());
    const std::vector<__nv_bfloat16> h = d.download();
    for (size_t i = 0; i < n; ++i) out[i] = __bfloat162float(h[i]);
  } else {
    cuda::DeviceArray<__half> d(n);
    d.fill_bytes(0xff);
    ADAMAS_CUDA_CHECK(cuda::prefill_attention(d.get(), dq.get(), kv.device(), H, T, pos0, scale, nullptr));
    ADAMAS_CUDA_CHECK(cudaDeviceSynchronize());
    const std::vector<__half> h = d.download();
    for (size_t i = 0; i < n; ++i) out[i] = __half2float(h[i]);
  }
  return out;
}

std::vector<float> cpu_prefill(const TestKV& kv, const HalfValues& q, int H, int T, int pos0) {
  std::vector<float> out(size_t(T) * H * kv.D);
  cpu::attend_prefill(out.data(), q.host.data(), kv.view(pos0 + T), H, T, pos0, 1.0f / std::sqrt(float(kv.D)));
  return out;
}

}  // namespace

TEST(cuda_prefill_attention_matches_cpu) {
  if (!have_cuda_device()) return;
  std::mt19937 rng(201);
  const Shape shapes[] = {{4, 4, 64}, {6, 2, 64}, {8, 2, 128}, {16, 2, 64}, {3, 1, 128}, {2, 2, 128}};
  struct Chunk {
    int T, pos0;
  };
  const Chunk chunks[] = {{1, 0}, {37, 0}, {128, 0}, {129, 0}, {200, 77}, {5, 300}, {64, 63}, {300, 1000}};
  for (const Shape& s : shapes)
    for (const Chunk& c : chunks)
      for (float key_sd : {1.0f, 4.0f}) {  // flat and peaked softmax
        TestKV kv(rng, s.KV, s.D, c.pos0 + c.T + 3, key_sd);
        const HalfValues q = random_half(rng, size_t(c.T) * s.H * s.D, 1.0f);
        const std::vector<float> want = cpu_prefill(kv, q, s.H, c.T, c.pos0);
        const std::string what = shape_name(s.H, s.KV, s.D, c.pos0 + c.T) + ", T " + std::to_string(c.T) + ", pos0 " +
                                 std::to_string(c.pos0) + ", key sd " + std::to_string(key_sd);
        // fp16 probabilities in the second product and an fp16 (bf16) output: a few 1e-4 (1e-3)
        CHECK_REL(gpu_prefill(kv, q, s.H, c.T, c.pos0, false), want, 2e-3, what + ", fp16 out");
        CHECK_REL(gpu_prefill(kv, q, s.H, c.T, c.pos0, true), want, 1e-2, what + ", bf16 out");
      }
}

// A prompt prefilled in two chunks, the second over the cache the first filled, gives the rows of
// one prefill of the whole prompt; a long chunk crosses many key tiles.
TEST(cuda_prefill_attention_in_chunks_and_long) {
  if (!have_cuda_device()) return;
  std::mt19937 rng(202);
  for (const Shape& s : {Shape{8, 2, 128}, Shape{4, 1, 64}}) {
    const int T1 = 1000, T2 = 3000, n = T1 + T2;
    TestKV kv(rng, s.KV, s.D, n, 2.0f);
    const HalfValues q = random_half(rng, size_t(n) * s.H * s.D, 1.0f);
    const std::vector<float> whole = gpu_prefill(kv, q, s.H, n, 0, false);
    HalfValues q2;
    q2.dev.assign(q.dev.begin() + size_t(T1) * s.H * s.D, q.dev.end());
    q2.host.assign(q.host.begin() + size_t(T1) * s.H * s.D, q.host.end());
    const std::vector<float> second = gpu_prefill(kv, q2, s.H, T2, T1, false);
    const std::vector<float> whole_tail(whole.begin() + size_t(T1) * s.H * s.D, whole.end());
    CHECK_REL(second, whole_tail, 1e-3, shape_name(s.H, s.KV, s.D, n) + ": chunk over the cache vs one pass");
    CHECK_REL(second, cpu_prefill(kv, q2, s.H, T2, T1), 2e-3, shape_name(s.H, s.KV, s.D, n) + ": vs the CPU");
  }
}

TEST(cuda_prefill_attention_refuses_what_it_does_not_take) {
  if (!have_cuda_device()) return;
  std::mt19937 rng(203);
  TestKV kv(rng, 2, 64, 16);
  cuda::DeviceArray<__half> q(size_t(4) * 4 * 64), out(size_t(4) * 4 * 64);
  CHECK(cuda::prefill_attention(out.get(), q.get(), kv.device(), 4, 0, 0, 0.125f, nullptr) == cudaErrorInvalidValue);
  CHECK(cuda::prefill_attention(out.get(), q.get(), kv.device(), 3, 4, 0, 0.125f, nullptr) == cudaErrorInvalidValue);
  cuda::DeviceKV odd = kv.device();
  odd.head_dim = 96;
  CHECK_THROWS_WITH(cuda::prefill_attention(out.get(), q.get(), odd, 4, 4, 0, 0.125f, nullptr), "head_dim 96");
}
