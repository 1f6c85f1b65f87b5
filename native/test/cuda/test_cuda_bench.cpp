// The step benchmark on the GPU: every phase timed through the CUDA layer attention, cold and hot,
// with the layer's bytes, for one sequence and for batches of different lengths; the device's
// facts and clocks in the result; knobs the CUDA kernels lack are refused by name. Under
// ADAMAS_TEST_TIMING, a table of every phase's time against its bytes floor at the target shapes.
#include <algorithm>
#include <cstdio>
#include <cstdlib>

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
    if (m != Method::Full) CHECK(filled(r.full));
    // StreamingLLM's window is computed in the attention kernel: no top-k phase runs
    CHECK(m == Method::Full || (m == Method::Streaming ? r.topk.time.us.empty() : filled(r.topk)));
    CHECK(filled(r.launch) && r.launch.bytes == 0);
    CHECK(r.facts.l2_bytes > 0 && r.facts.runtime_version > 0 && !r.facts.driver.empty());
    CHECK(r.clocks.available ? r.clocks.sm_max_mhz > 0 && r.clocks.sm_min_mhz <= r.clocks.sm_max_mhz
                             : !r.clocks.note.empty());
    AttentionOptions o = c.attention;
    validate(o, c.head_dim, o.skip_layers);
    const PhaseBytes b = make_layer_attention(Backend::Cuda, o, 32, 8, 128, c.kv_len)->bytes(c.kv_len);
    CHECK_EQ(r.estimate.bytes, b.estimate);
    if (m != Method::Streaming) CHECK_EQ(r.topk.bytes, b.select);
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

TEST(cuda_bench_times_batches_of_different_lengths) {
  if (!test::have_cuda_device()) return;
  for (Method m : {Method::Full, Method::Adamas, Method::Quest}) {
    AttentionBenchConfig c;
    c.backend = "cuda";
    c.attention.method = m;
    c.attention.budget = m == Method::Full ? 0 : 256;
    c.n_heads = 32;
    c.n_kv_heads = 8;
    c.sequences = 4;
    c.seq_lens = {8191, 1000, 4097, 300};
    c.rule.min_samples = 5;
    c.rule.min_time_s = 0.0;
    c.rule.max_noise = 1.0;
    c.rule.timeout_s = 2.0;
    c.batch = 2;
    const AttentionBenchResult r = bench_attention_step(c);
    CHECK(r.seq_lens == c.seq_lens && r.total.time.us.size() >= 5 && r.total.time.median_us > 0);
    AttentionOptions o = c.attention;
    validate(o, c.head_dim, o.skip_layers);
    double attend = 0;
    for (int n : c.seq_lens) attend += make_layer_attention(Backend::Cuda, o, 32, 8, 128, 8191)->bytes(n).attend;
    CHECK_EQ(r.attention.bytes, attend);  // summed over the sequences
  }
  AttentionBenchConfig mixed;
  mixed.backend = "cuda";
  mixed.attention.method = Method::Adamas;
  mixed.attention.budget = 512;
  mixed.sequences = 2;
  mixed.seq_lens = {4000, 300};
  CHECK_THROWS_WITH(bench_attention_step(mixed), "mix lengths at and above the budget 512");
}

TEST(cuda_bench_phase_floors) {
  // Not a check: where the time of a decode step goes, phase by phase, against its bytes floor
  // (bytes over the copy bandwidth measured in the same run), at the shapes. Minutes of a
  // large GPU: only under ADAMAS_TEST_TIMING.
  if (!std::getenv("ADAMAS_TEST_TIMING")) {
    test::skip("ADAMAS_TEST_TIMING not set");
    return;
  }
  if (!test::have_cuda_device()) return;
  std::printf("\n| shape | seqs | kv_len | method | phase | cold us | hot us | bytes | floor us | floor/cold | SM MHz |\n");
  std::printf("|---|--:|--:|---|---|--:|--:|--:|--:|--:|---|\n");
  struct Shape {
    const char* name;
    int H, KV;
  };
  for (const Shape& s : {Shape{"32x128 MHA", 32, 32}, Shape{"32/8x128 GQA", 32, 8}})
    for (int seqs : {1, 8})
      for (int n : {8192, 32768, 131072})
        for (Method m : {Method::Full, Method::Streaming, Method::Quest, Method::Adamas, Method::Oracle}) {
          if (seqs > 1 && m != Method::Full && m != Method::Adamas) continue;
          if (m == Method::Oracle && n > 32768) continue;  // a ceiling, not a speed method: keep the run short
          AttentionBenchConfig c;
          c.backend = "cuda";
          c.attention.method = m;
          c.attention.budget = m == Method::Full ? 0 : 256;
          c.n_heads = s.H;
          c.n_kv_heads = s.KV;
          c.kv_len = n;
          c.sequences = seqs;
          c.rule.min_samples = 10;
          c.rule.min_time_s = 0.2;
          c.rule.max_noise = 0.02;
          c.rule.timeout_s = 2.0;
          c.measure_full = false;
          const AttentionBenchResult r = bench_attention_step(c);
          const std::pair<const char*, const PhaseResult*> phases[] = {
              {"estimate", &r.estimate}, {"topk", &r.topk}, {"attention", &r.attention}, {"total", &r.total}};
          for (const auto& [name, p] : phases) {
            if (p->time.us.empty() || (!r.sparse && std::string(name) != "total")) continue;
            const double floor_us = p->bytes / (r.copy_bandwidth_gbs * 1e3);
            std::printf("| %s | %d | %d | %s@%d | %s | %.1f | %.1f | %.0f | %.1f | %.0f%% | %u-%u%s |\n", s.name, seqs, n,
                        method_name(m), c.attention.budget, name, p->time.median_us,
                        p->hot.us.empty() ? 0.0 : p->hot.median_us, p->bytes, floor_us,
                        100.0 * floor_us / p->time.median_us, r.clocks.sm_min_mhz, r.clocks.sm_max_mhz,
                        r.clocks.throttled ? " throttled" : "");
          }
          std::fflush(stdout);
        }
}
