// The step benchmark on the CPU: every phase of every method timed through the layer interface,
// cold and hot, with the layer's bytes; the timer and the stopping rule on work of known length.
#include <chrono>
#include <thread>

#include "attention/layer.h"
#include "bench/attention_bench.h"
#include "bench/timer.h"
#include "check.h"

using namespace adamas;
using namespace adamas::bench;

namespace {

AttentionBenchConfig quick(Method m, int budget) {
  AttentionBenchConfig c;
  c.backend = "cpu";
  c.attention.method = m;
  c.attention.budget = budget;
  c.n_heads = 6;
  c.n_kv_heads = 2;
  c.head_dim = 64;
  c.kv_len = 700;
  c.rule.min_samples = 5;
  c.rule.min_time_s = 0.0;
  c.rule.max_noise = 1.0;
  c.rule.timeout_s = 1.0;
  c.batch = 3;
  return c;
}

bool filled(const Samples& s) { return s.us.size() >= 5 && s.median_us > 0; }

}  // namespace

TEST(bench_cpu_times_every_phase_cold_and_hot) {
  std::vector<AttentionBenchConfig> cases;
  for (Method m : {Method::Streaming, Method::Quest, Method::Adamas, Method::Oracle}) cases.push_back(quick(m, 64));
  AttentionBenchConfig page = quick(Method::Adamas, 64), fitted = quick(Method::Adamas, 64);
  page.attention.granularity = Granularity::Page;  // CPU-only knobs, timed through the interface
  fitted.attention.auto_thresholds = true;
  cases.push_back(page);
  cases.push_back(fitted);
  for (const AttentionBenchConfig& c : cases) {
    const AttentionBenchResult r = bench_attention_step(c);
    CHECK_EQ(r.backend, std::string("cpu"));
    CHECK(r.sparse && r.batch == 3 && r.copy_bandwidth_gbs > 0 && !r.device.empty());
    const bool has_estimate = c.attention.method != Method::Streaming;
    CHECK_EQ(filled(r.estimate.time) && filled(r.estimate.hot), has_estimate);
    for (const PhaseResult* p : {&r.topk, &r.attention, &r.total, &r.full})
      CHECK(filled(p->time) && filled(p->hot) && p->bytes > 0);
    CHECK(r.launch.time.us.empty());  // the CPU has no launch floor to time
    AttentionOptions o = c.attention;
    validate(o, c.head_dim, o.skip_layers);
    const PhaseBytes b = make_layer_attention(Backend::Cpu, o, c.n_heads, c.n_kv_heads, c.head_dim, 0)->bytes(c.kv_len);
    CHECK_EQ(r.estimate.bytes, b.estimate);
    CHECK_EQ(r.topk.bytes, b.select);
    CHECK_EQ(r.attention.bytes, b.attend);
    CHECK_EQ(r.total.bytes, b.total());
  }
}

TEST(bench_cpu_dense_step_is_the_attention) {
  AttentionBenchConfig c = quick(Method::Quest, 1024);  // kv_len 700 <= budget
  c.batch = 0;
  c.measure_full = false;
  const AttentionBenchResult r = bench_attention_step(c);
  CHECK(!r.sparse);
  CHECK(r.estimate.time.us.empty() && r.topk.time.us.empty() && r.full.time.us.empty());
  CHECK(filled(r.attention.time) && r.attention.hot.us.empty());
  CHECK(r.total.time.us == r.attention.time.us);
  c.batch = -1;
  CHECK_THROWS_WITH(bench_attention_step(c), "batch must be >= 0");
  c.batch = 1;
  c.backend = "tpu";
  CHECK_THROWS_WITH(bench_attention_step(c), "backend must be cpu, cuda or auto (got 'tpu')");
}

TEST(bench_cpu_timer_measures_what_it_runs) {
  const std::unique_ptr<PhaseTimer> t = make_cpu_timer();
  auto sleep = [] { std::this_thread::sleep_for(std::chrono::milliseconds(2)); };
  const double cold = t->cold(sleep), hot = t->hot(sleep, 4);
  CHECK(cold >= 0.002 && cold < 0.05);
  CHECK(hot >= 0.002 && hot < 0.05);  // per run, not per batch
  int runs = 0;
  StoppingRule rule;
  rule.min_samples = 6;
  rule.min_time_s = 0.0;
  rule.max_noise = 10.0;
  const PhaseSamples s = sample_phase(*t, rule, 5, [&] { ++runs; });
  CHECK_EQ(s.cold.us.size(), size_t(6));
  CHECK_EQ(s.hot.us.size(), size_t(6));
  CHECK_EQ(runs, 1 + 6 + 6 * 5);  // warm-up, cold samples, hot batches
}
