// LayerAttention (the GPU step: metadata on append, estimate, select, attend) against the CPU
// selectors and cpu::attend_decode, driven like decoding: a prefill appended in chunks, then
// single-token steps. Selections must be identical, outputs within 1e-3.
#include <algorithm>

#include "attention/cpu/attend.h"
#include "attention/cuda/layer.h"
#include "cuda_util.h"

using namespace adamas;
using namespace adamas::test;

namespace {

struct LayerCase {
  AttentionOptions opts;
  int H, KV, D;
  int prefill, steps;
};

std::string describe(const LayerCase& c, int n) {
  std::string s = std::string(method_name(c.opts.method)) + " B " + std::to_string(c.opts.budget) + ", " +
                  shape_name(c.H, c.KV, c.D, n) + ", gqa " + (c.opts.gqa == GqaSelection::PerKvHead ? "kv" : "query");
  if (c.opts.method == Method::Adamas)
    s += std::string(c.opts.distance == Distance::L2 ? ", L2" : ", L1") + (c.opts.hadamard ? "" : ", no transform");
  return s;
}

void run_case(LayerCase c, uint32_t seed) {
  std::mt19937 rng(seed);
  validate(c.opts, c.D, c.opts.skip_layers);
  const int total = c.prefill + c.steps, cap = total + 7;
  TestKV kv(rng, c.KV, c.D, cap);
  const cuda::DeviceKV dkv = kv.device();
  cuda::LayerAttention gpu(c.opts, c.H, c.KV, c.D, cap);
  std::unique_ptr<LayerAttention> cpu = make_layer_attention(Backend::Cpu, c.opts, c.H, c.KV, c.D, cap);
  const LayerKV hkv{kv.k.host.data(), kv.v.host.data(), int64_t(cap) * c.D, c.KV, c.D};
  std::uniform_int_distribution<int> chunk(1, 300);
  for (int pos = 0; pos < c.prefill;) {
    const int len = std::min(chunk(rng), c.prefill - pos);
    gpu.append(dkv, pos, len, nullptr);
    cpu->append(hkv, pos, len);
    pos += len;
  }
  cpu->prefill_done(hkv);
  const int group = c.H / c.KV;
  const float scale = 1.0f / std::sqrt(float(c.D));
  cuda::DeviceArray<float> dq(size_t(c.H) * c.D), dout(size_t(c.H) * c.D);
  for (int n = c.prefill + 1; n <= total; ++n) {
    gpu.append(dkv, n - 1, 1, nullptr);
    cpu->append(hkv, n - 1, 1);
    const std::vector<float> q = random_floats(rng, size_t(c.H) * c.D, 8.0f);
    dq.upload(q);
    dout.fill_bytes(0xff);
    gpu.step(dout.get(), dq.get(), dkv, n, nullptr);
    SYNC_CHECK();

    cpu->estimate(q.data(), hkv, n);
    cpu->select(n);
    const Selection want = cpu->selection(n);
    const Selection got = gpu.selection(n, nullptr);
    if (got.heads != want.heads) {
      fail(__FILE__, __LINE__, "selection differs: " + describe(c, n));
      return;
    }
    std::vector<float> ref(size_t(c.H) * c.D), scratch(static_cast<size_t>(n));
    for (int h = 0; h < c.H; ++h)
      cpu::attend_decode(&ref[size_t(h) * c.D], &q[size_t(h) * c.D], kv.view(n), h / group, want.heads[h].data(),
                         int(want.heads[h].size()), scale, scratch.data());
    CHECK_REL(dout.download(), ref, 1e-3, describe(c, n));
  }
}

AttentionOptions method(Method m, int budget) {
  AttentionOptions o;
  o.method = m;
  o.budget = budget;
  return o;
}

}  // namespace

TEST(cuda_layer_matches_cpu_selectors) {
  if (!have_cuda_device()) return;
  struct Shape {
    int H, KV, D;
  };
  uint32_t seed = 300;
  for (const Shape& s : {Shape{8, 8, 128}, Shape{6, 2, 64}, Shape{8, 2, 128}, Shape{16, 2, 64}})
    for (GqaSelection gqa : {GqaSelection::PerQueryHead, GqaSelection::PerKvHead})
      for (int B : {1, 16, 37, 64, 400}) {
        std::vector<AttentionOptions> methods = {method(Method::Full, 0), method(Method::Streaming, B),
                                                 method(Method::Adamas, B)};
        if (B >= 16) methods.push_back(method(Method::Quest, B));
        AttentionOptions l2 = method(Method::Adamas, B), plain = method(Method::Adamas, B);
        l2.distance = Distance::L2;
        plain.hadamard = false;
        methods.push_back(l2);
        methods.push_back(plain);
        for (AttentionOptions o : methods) {
          o.gqa = gqa;
          // 250 + 3 steps: n crosses no page boundary evenly; B = 400 stays dense (n <= B)
          run_case(LayerCase{o, s.H, s.KV, s.D, 250, 3}, seed++);
        }
      }
}

TEST(cuda_layer_long_context) {
  if (!have_cuda_device()) return;
  uint32_t seed = 400;
  for (Method m : {Method::Quest, Method::Adamas})
    for (GqaSelection gqa : {GqaSelection::PerQueryHead, GqaSelection::PerKvHead}) {
      AttentionOptions o = method(m, 1024);
      o.gqa = gqa;
      run_case(LayerCase{o, 32, 8, 128, 32765, 2}, seed++);
    }
}
