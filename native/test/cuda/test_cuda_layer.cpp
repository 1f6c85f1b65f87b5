// The CUDA LayerAttention (metadata on append, estimate, select, attend; given lists; the recall
// instrumentation) against the CPU LayerAttention and cpu::attend_decode, through the interface
// both implement, driven like decoding: a prefill appended in chunks, then single-token steps.
// Selections must be identical, outputs within 1e-3, masses within 1e-4.
#include <algorithm>

#include "attention/cpu/attend.h"
#include "attention/cuda/layer.h"
#include "attention/layer.h"
#include "cuda_util.h"

#include <cstring>

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

std::unique_ptr<LayerAttention> gpu_layer(const AttentionOptions& o, int H, int KV, int D, int cap) {
  return make_layer_attention(Backend::Cuda, o, H, KV, D, cap, nullptr);
}

// out[H][D] of cpu::attend_decode over each head's list.
std::vector<float> cpu_attend(const TestKV& kv, const std::vector<float>& q, int H, int n, const Selection& sel) {
  const int D = kv.D, group = H / kv.KV;
  std::vector<float> ref(size_t(H) * D), scratch(static_cast<size_t>(n));
  for (int h = 0; h < H; ++h)
    cpu::attend_decode(&ref[size_t(h) * D], &q[size_t(h) * D], kv.view(n), h / group, sel.heads[h].data(),
                       int(sel.heads[h].size()), 1.0f / std::sqrt(float(D)), scratch.data());
  return ref;
}

// max |got - want| over the heads.
double mass_error(const std::vector<float>& got, const std::vector<float>& want) {
  double e = 0;
  for (size_t h = 0; h < want.size(); ++h) e = std::max(e, std::isfinite(got[h]) ? double(std::fabs(got[h] - want[h])) : INFINITY);
  return e;
}

void run_case(LayerCase c, uint32_t seed) {
  std::mt19937 rng(seed);
  validate(c.opts, c.D, c.opts.skip_layers);
  const int total = c.prefill + c.steps, cap = total + 7;
  TestKV kv(rng, c.KV, c.D, cap);
  const LayerKV dkv = kv.device_layer(), hkv = kv.host_layer();
  // gpu selects; replay attends over the CPU's lists (a recorded selection, replayed)
  std::unique_ptr<LayerAttention> gpu = gpu_layer(c.opts, c.H, c.KV, c.D, cap),
                                  replay = gpu_layer(c.opts, c.H, c.KV, c.D, cap),
                                  cpu = make_layer_attention(Backend::Cpu, c.opts, c.H, c.KV, c.D, cap);
  std::uniform_int_distribution<int> chunk(1, 300);
  for (int pos = 0; pos < c.prefill;) {
    const int len = std::min(chunk(rng), c.prefill - pos);
    gpu->append(dkv, pos, len);
    replay->append(dkv, pos, len);
    cpu->append(hkv, pos, len);
    pos += len;
  }
  gpu->prefill_done(dkv);
  replay->prefill_done(dkv);
  cpu->prefill_done(hkv);
  cuda::DeviceArray<float> dq(size_t(c.H) * c.D), dout(size_t(c.H) * c.D);
  std::vector<float> mass(static_cast<size_t>(c.H)), want_mass(mass.size());
  for (int n = c.prefill + 1; n <= total; ++n) {
    gpu->append(dkv, n - 1, 1);
    replay->append(dkv, n - 1, 1);
    cpu->append(hkv, n - 1, 1);
    const std::vector<float> q = random_floats(rng, size_t(c.H) * c.D, 8.0f);
    dq.upload(q);
    dout.fill_bytes(0xff);
    gpu->step(dout.get(), dq.get(), dkv, n);
    SYNC_CHECK();

    cpu->estimate(q.data(), hkv, n);
    cpu->select(n);
    const Selection want = cpu->selection(n);
    if (gpu->selection(n).heads != want.heads) {
      fail(__FILE__, __LINE__, "selection differs: " + describe(c, n));
      return;
    }
    const std::vector<float> ref = cpu_attend(kv, q, c.H, n, want);
    CHECK_REL(dout.download(), ref, 1e-3, describe(c, n));
    cpu->selected_mass(want_mass.data(), q.data(), hkv, n);
    gpu->selected_mass(mass.data(), dq.get(), dkv, n);
    if (!(mass_error(mass, want_mass) <= 1e-4))
      fail(__FILE__, __LINE__, "selected mass differs by " + std::to_string(mass_error(mass, want_mass)) + ": " +
                                   describe(c, n));

    dout.fill_bytes(0xff);
    replay->use_selection(want, n);
    replay->attend(dout.get(), dq.get(), dkv, n);
    SYNC_CHECK();
    CHECK_REL(dout.download(), ref, 1e-3, "given lists, " + describe(c, n));
    CHECK(replay->selection(n).heads == want.heads);
    replay->selected_mass(mass.data(), dq.get(), dkv, n);
    CHECK(mass_error(mass, want_mass) <= 1e-4);
  }
}

AttentionOptions method(Method m, int budget) {
  AttentionOptions o;
  o.method = m;
  o.budget = budget;
  return o;
}

}  // namespace

TEST(cuda_layer_matches_cpu_layer) {
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
        methods.push_back(method(Method::Oracle, B));
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
  for (Method m : {Method::Quest, Method::Adamas, Method::Oracle})
    for (GqaSelection gqa : {GqaSelection::PerQueryHead, GqaSelection::PerKvHead}) {
      AttentionOptions o = method(m, 1024);
      o.gqa = gqa;
      run_case(LayerCase{o, 32, 8, 128, 32765, 2}, seed++);
    }
}

TEST(cuda_layer_given_lists_match_cpu) {
  // Lists that no method would choose (random positions, one length for every head), given to
  // both backends: the same attention and the same mass on them.
  if (!have_cuda_device()) return;
  std::mt19937 rng(500);
  struct Shape {
    int H, KV, D;
  };
  for (const Shape& s : {Shape{8, 8, 128}, Shape{9, 3, 64}, Shape{32, 4, 128}})
    for (int len : {1, 7, 300, 1500}) {
      const int n = 2000 + len;
      AttentionOptions o = method(Method::Adamas, 2 * len);  // n > budget: a sparse step
      validate(o, s.D, 2);
      TestKV kv(rng, s.KV, s.D, n);
      auto gpu = gpu_layer(o, s.H, s.KV, s.D, n);
      auto cpu = make_layer_attention(Backend::Cpu, o, s.H, s.KV, s.D, n);
      gpu->append(kv.device_layer(), 0, n);
      cpu->append(kv.host_layer(), 0, n);
      Selection given;
      for (int h = 0; h < s.H; ++h) {
        std::vector<int32_t> all = random_positions(rng, n, len);
        std::sort(all.begin(), all.end());
        given.heads.push_back(all);
      }
      const std::vector<float> q = random_floats(rng, size_t(s.H) * s.D, 1.0f);
      cuda::DeviceArray<float> dq(q), dout(q.size());
      dout.fill_bytes(0xff);
      gpu->use_selection(given, n);
      gpu->attend(dout.get(), dq.get(), kv.device_layer(), n);
      SYNC_CHECK();
      const std::string what = shape_name(s.H, s.KV, s.D, n) + ", lists of " + std::to_string(len);
      CHECK_REL(dout.download(), cpu_attend(kv, q, s.H, n, given), 1e-3, what);
      std::vector<float> mass(static_cast<size_t>(s.H)), want(mass.size());
      gpu->selected_mass(mass.data(), dq.get(), kv.device_layer(), n);
      cpu->use_selection(given, n);
      cpu->selected_mass(want.data(), q.data(), kv.host_layer(), n);
      if (!(mass_error(mass, want) <= 1e-4)) fail(__FILE__, __LINE__, "selected mass differs: " + what);
      // dense (every position): a mass of 1
      auto full = gpu_layer(AttentionOptions{}, s.H, s.KV, s.D, n);
      full->append(kv.device_layer(), 0, n);
      full->selected_mass(mass.data(), dq.get(), kv.device_layer(), n);
      for (float m : mass) CHECK_NEAR(m, 1.0, 1e-5);
    }
}

TEST(cuda_layer_refuses_what_it_cannot_attend) {
  if (!have_cuda_device()) return;
  std::mt19937 rng(501);
  AttentionOptions o = method(Method::Quest, 32);
  validate(o, 64, 2);
  TestKV kv(rng, 2, 64, 100);
  auto gpu = gpu_layer(o, 4, 2, 64, 100);
  gpu->append(kv.device_layer(), 0, 100);
  Selection uneven;
  uneven.heads = {{1, 2, 99}, {3, 99}, {4, 99}, {5, 99}};
  CHECK_THROWS_WITH(gpu->use_selection(uneven, 100), "lists of one length (head 0: 3, head 1: 2)");
  uneven.heads = {{1, 99}, {3, 99}, {4, 100}, {5, 99}};
  CHECK_THROWS_WITH(gpu->use_selection(uneven, 100), "head 2 lists position 100");
  CHECK_THROWS_WITH(gpu->attend(nullptr, nullptr, kv.device_layer(), 100), "without select() or use_selection()");
  CHECK_THROWS_WITH(gpu->append(kv.device_layer(), 100, 1), "capacity 100");
  AttentionOptions bits3 = method(Method::Adamas, 32);
  bits3.bits = 3;
  validate(bits3, 64, 2);
  CHECK_THROWS_WITH(gpu_layer(bits3, 4, 2, 64, 100), "Adamas code bits 3");
}

namespace {

AttentionOptions with_gqa(AttentionOptions o, GqaSelection gqa) {
  o.gqa = gqa;
  return o;
}

// Every method at budget B, per query head and per KV head.
std::vector<AttentionOptions> every_method(int B) {
  std::vector<AttentionOptions> all;
  for (GqaSelection gqa : {GqaSelection::PerQueryHead, GqaSelection::PerKvHead}) {
    AttentionOptions l2 = method(Method::Adamas, B);
    l2.distance = Distance::L2;
    for (const AttentionOptions& o : {method(Method::Full, 0), method(Method::Streaming, B), method(Method::Quest, B),
                                      method(Method::Adamas, B), l2, method(Method::Oracle, B)})
      all.push_back(with_gqa(o, gqa));
  }
  return all;
}

}  // namespace

TEST(cuda_layer_graph_replays_at_any_length) {
  // A decode step (append of the token, estimate, select, attend) captured once with the length
  // in device memory, replayed at several lengths: the same output and selection, bit for bit,
  // as plain launches of a twin layer reading the same device length, the CPU's selection, and
  // attention within 1e-3 of the CPU's over it.
  if (!have_cuda_device()) return;
  std::mt19937 rng(600);
  struct Shape {
    int H, KV, D;
  };
  for (const Shape& s : {Shape{8, 8, 128}, Shape{12, 4, 64}})
    for (AttentionOptions o : every_method(64)) {
      validate(o, s.D, 2);
      const int prefill = 700, cap = 2000;
      TestKV kv(rng, s.KV, s.D, cap);
      const LayerKV dkv = kv.device_layer(), hkv = kv.host_layer();
      cudaStream_t stream = nullptr;
      ADAMAS_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
      auto graphed = cuda::make_cuda_layer_attention(o, s.H, s.KV, s.D, cap, stream);
      auto plain = cuda::make_cuda_layer_attention(o, s.H, s.KV, s.D, cap, stream);
      auto cpu = make_layer_attention(Backend::Cpu, o, s.H, s.KV, s.D, cap);
      cuda::DeviceArray<int> n_dev(1);
      auto set_length = [&](int n) {
        ADAMAS_CUDA_CHECK(cudaStreamSynchronize(stream));
        n_dev.upload(std::vector<int>{n});
      };
      graphed->append(dkv, 0, prefill);
      plain->append(dkv, 0, prefill);
      cpu->append(hkv, 0, prefill);
      cpu->prefill_done(hkv);
      graphed->set_device_length(n_dev.get());
      plain->set_device_length(n_dev.get());
      cuda::DeviceArray<float> dq(size_t(s.H) * s.D), out_g(dq.size()), out_p(dq.size());

      // captured once; the host's n only has to be as sparse as the replayed ones
      cudaGraph_t graph = nullptr;
      cudaGraphExec_t exec = nullptr;
      ADAMAS_CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
      graphed->append(dkv, prefill, 1);
      graphed->step(out_g.get(), dq.get(), dkv, prefill + 1);
      ADAMAS_CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
      ADAMAS_CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
      int n = prefill;
      for (int jump : {1, 1, 57, 1, 600, 2}) {
        for (int m = n; m < n + jump - 1; ++m) {  // positions skipped over: one append each, as decoding
          set_length(m + 1);
          graphed->append(dkv, m, 1);
          plain->append(dkv, m, 1);
          cpu->append(hkv, m, 1);
        }
        n += jump;
        const std::vector<float> q = random_floats(rng, size_t(s.H) * s.D, 8.0f);
        set_length(n);
        dq.upload(q);
        out_g.fill_bytes(0xff, stream);
        out_p.fill_bytes(0xff, stream);
        ADAMAS_CUDA_CHECK(cudaGraphLaunch(exec, stream));
        plain->append(dkv, n - 1, 1);
        plain->step(out_p.get(), dq.get(), dkv, n);
        ADAMAS_CUDA_CHECK(cudaStreamSynchronize(stream));
        cpu->append(hkv, n - 1, 1);
        cpu->estimate(q.data(), hkv, n);
        cpu->select(n);
        const Selection want = cpu->selection(n);
        const std::string what = describe(LayerCase{o, s.H, s.KV, s.D, prefill, 0}, n);
        const std::vector<float> g = out_g.download(), p = out_p.download();
        if (std::memcmp(g.data(), p.data(), g.size() * sizeof(float)) != 0)
          fail(__FILE__, __LINE__, "graph replay differs from plain launches: " + what);
        if (graphed->selection(n).heads != want.heads || plain->selection(n).heads != want.heads)
          fail(__FILE__, __LINE__, "selection differs under device lengths: " + what);
        CHECK_REL(g, cpu_attend(kv, q, s.H, n, want), 1e-3, "graph replay, " + what);
      }
      ADAMAS_CUDA_CHECK(cudaGraphExecDestroy(exec));
      ADAMAS_CUDA_CHECK(cudaGraphDestroy(graph));
      ADAMAS_CUDA_CHECK(cudaStreamDestroy(stream));
    }
}

TEST(cuda_layer_batch_matches_cpu_per_sequence) {
  // A layer stepping 3 sequences of different lengths (from device memory) at once: each
  // sequence's output as the CPU's attention over the CPU layer's selection for it.
  if (!have_cuda_device()) return;
  std::mt19937 rng(601);
  const int H = 16, KV = 4, D = 128, cap = 3000, B = 3;
  const std::vector<int> lens = {2999, 700, 1501};
  for (AttentionOptions o : every_method(256)) {
    validate(o, D, 2);
    TestKV kv(rng, B * KV, D, cap);  // sequence b: KV heads b * KV ..
    const int64_t kv_stride = int64_t(KV) * cap * D;
    auto gpu = cuda::make_cuda_layer_attention(o, H, KV, D, cap, nullptr, B, kv_stride);
    const LayerKV dkv{kv.dk.get(), kv.dv.get(), int64_t(cap) * D, KV, D};
    gpu->append(dkv, 0, cap);  // every sequence's metadata over the capacity
    cuda::DeviceArray<int> dlens(lens);
    gpu->set_device_length(dlens.get());
    const std::vector<float> q = random_floats(rng, size_t(B) * H * D, 8.0f);
    cuda::DeviceArray<float> dq(q), dout(q.size());
    dout.fill_bytes(0xff);
    gpu->step(dout.get(), dq.get(), dkv, 1000);  // every length > 256: sparse, like n = 1000
    SYNC_CHECK();
    const std::vector<float> got = dout.download();
    for (int b = 0; b < B; ++b) {
      const int n = lens[size_t(b)];
      // sequence b alone on the CPU: its cache is heads b * KV .. of the TestKV
      const LayerKV hkv{kv.k.host.data() + size_t(b) * kv_stride, kv.v.host.data() + size_t(b) * kv_stride,
                        int64_t(cap) * D, KV, D};
      auto cpu = make_layer_attention(Backend::Cpu, o, H, KV, D, cap);
      cpu->append(hkv, 0, n);
      cpu->prefill_done(hkv);
      const std::vector<float> qb(q.begin() + size_t(b) * H * D, q.begin() + size_t(b + 1) * H * D);
      cpu->estimate(qb.data(), hkv, n);
      cpu->select(n);
      const Selection sel = cpu->selection(n);
      std::vector<float> ref(size_t(H) * D), scratch(static_cast<size_t>(n));
      const KVView view{hkv.k ? static_cast<const float*>(hkv.k) : nullptr, static_cast<const float*>(hkv.v), KV, D,
                        int64_t(cap) * D, n};
      for (int h = 0; h < H; ++h)
        cpu::attend_decode(&ref[size_t(h) * D], &qb[size_t(h) * D], view, h / (H / KV), sel.heads[h].data(),
                           int(sel.heads[h].size()), 1.0f / std::sqrt(float(D)), scratch.data());
      CHECK_REL(std::vector<float>(got.begin() + size_t(b) * H * D, got.begin() + size_t(b + 1) * H * D), ref, 1e-3,
                std::string(method_name(o.method)) + " batch sequence " + std::to_string(b) + " at " +
                    std::to_string(n));
    }
  }
}

TEST(cuda_layer_chained_steps_match_drained_phases) {
  // The phases of a step are launched as dependent grids (Hopper: each may start before the one
  // before it has finished, and waits in-kernel for its results). 24 steps queued back to back,
  // each the append of its token then the step, bit for bit as the same steps with the stream
  // drained after every phase.
  if (!have_cuda_device()) return;
  std::mt19937 rng(602);
  const int H = 12, KV = 4, D = 128, prefill = 4000, steps = 24, cap = prefill + steps;
  for (AttentionOptions o : every_method(256)) {
    validate(o, D, 2);
    TestKV kv(rng, KV, D, cap);
    const LayerKV dkv = kv.device_layer();
    cudaStream_t stream = nullptr;
    ADAMAS_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    auto chained = cuda::make_cuda_layer_attention(o, H, KV, D, cap, stream);
    auto drained = cuda::make_cuda_layer_attention(o, H, KV, D, cap, stream);
    chained->append(dkv, 0, prefill);
    drained->append(dkv, 0, prefill);
    const size_t per = size_t(H) * D;
    const std::vector<float> q = random_floats(rng, per * steps, 8.0f);
    cuda::DeviceArray<float> dq(q), out_c(q.size()), out_d(q.size());
    out_c.fill_bytes(0xff, stream);
    out_d.fill_bytes(0xff, stream);
    for (int s = 0; s < steps; ++s) {
      chained->append(dkv, prefill + s, 1);
      chained->step(out_c.get() + per * s, dq.get() + per * s, dkv, prefill + s + 1);
    }
    auto drain = [&] { ADAMAS_CUDA_CHECK(cudaStreamSynchronize(stream)); };
    drain();
    for (int s = 0; s < steps; ++s) {
      const int n = prefill + s + 1;
      drained->append(dkv, n - 1, 1);
      drain();
      drained->estimate(dq.get() + per * s, dkv, n);
      drain();
      drained->select(n);
      drain();
      drained->attend(out_d.get() + per * s, dq.get() + per * s, dkv, n);
      drain();
    }
    const std::vector<float> c = out_c.download(), d = out_d.download();
    for (int s = 0; s < steps; ++s)
      if (std::memcmp(c.data() + per * s, d.data() + per * s, per * sizeof(float)) != 0)
        fail(__FILE__, __LINE__, std::string(method_name(o.method)) + ": chained step " + std::to_string(s) +
                                     " differs from the drained one");
    ADAMAS_CUDA_CHECK(cudaStreamDestroy(stream));
  }
}
