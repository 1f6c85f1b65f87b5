// The step benchmark on the GPU: every phase timed through the CUDA layer attention, cold and hot,
// with the layer's bytes; knobs the CUDA kernels lack are refused by name.
#include "attention/layer.h"
#include "bench/attention_bench.h"
#include "cuda_util.h"

using namespace adamas;
using namespace adamas::bench;

TEST(cuda_bench_times_every_phase_cold_and_hot) {
  if (!test::have_cuda_device()) return;
  for (Method m : {Method::Full, Method::Streaming, Method::Quest, Method::Adamas, Method::Oracle}) {
    AttentionBenchConfig c;
    c.backend = "cuda";
    c.attention.method = m;
    c.attention.budget = m == Method::Full ? 0 : 256;
    c.n_heads = 32;
    c.n_kv_heads = 8;
    c.head_dim = 128;
    c.kv_len = 8191;
    c.rule.min_samples = 5;
    c.rule.min_time_s = 0.0;
    c.rule.max_noise = 1.0;
    c.rule.timeout_s = 2.0;
    c.batch = 4;
    c.measure_full = m != Method::Full;
    const AttentionBenchResult r = bench_attention_step(c);
    CHECK_EQ(r.backend, std::string("cuda"));
    CHECK(r.sparse == (m != Method::Full) && r.copy_bandwidth_gbs > 0 && !r.device.empty());
    auto filled = [](const PhaseResult& p) { return p.time.us.size() >= 5 && p.hot.us.size() >= 5 && p.time.median_us > 0; };
    CHECK(filled(r.attention) && filled(r.total));
    if (m == Method::Quest || m == Method::Adamas || m == Method::Oracle) CHECK(filled(r.estimate));
    if (m != Method::Full) CHECK(filled(r.topk) && filled(r.full));
    AttentionOptions o = c.attention;
    validate(o, c.head_dim, o.skip_layers);
    const PhaseBytes b = make_layer_attention(Backend::Cuda, o, 32, 8, 128, c.kv_len)->bytes(c.kv_len);
    CHECK_EQ(r.estimate.bytes, b.estimate);
    CHECK_EQ(r.topk.bytes, b.select);
    CHECK_EQ(r.attention.bytes, b.attend);
    CHECK_EQ(r.total.bytes, b.total());
  }
}

TEST(cuda_bench_refuses_cpu_only_knobs) {
  if (!test::have_cuda_device()) return;
  AttentionBenchConfig c;
  c.backend = "cuda";
  c.attention.method = Method::Adamas;
  c.attention.budget = 256;
  c.attention.granularity = Granularity::Page;
  CHECK_THROWS_WITH(bench_attention_step(c), "Adamas page granularity is CPU-only");
}
