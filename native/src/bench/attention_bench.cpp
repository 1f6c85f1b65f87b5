#include "bench/attention_bench.h"

#include <functional>

#include "attention/layer.h"
#include "bench/attention_step.h"
#include "bench/timer.h"
#include "common/cuda_status.h"
#include "common/error.h"

namespace adamas::bench {

namespace {

void check_config(const AttentionBenchConfig& c) {
  if (c.n_heads < 1 || c.n_kv_heads < 1 || c.n_heads % c.n_kv_heads != 0)
    throw InvalidArgument("n_heads " + std::to_string(c.n_heads) + " must be a positive multiple of n_kv_heads " +
                          std::to_string(c.n_kv_heads));
  if (c.kv_len < 1) throw InvalidArgument("kv_len must be >= 1 (got " + std::to_string(c.kv_len) + ")");
  if (c.head_dim < 1) throw InvalidArgument("head_dim must be >= 1 (got " + std::to_string(c.head_dim) + ")");
  if (c.batch < 0) throw InvalidArgument("batch must be >= 0 (got " + std::to_string(c.batch) + ")");
}

}  // namespace

std::string default_bench_backend() {
  const CudaStatus s = cuda_status();
  return s.built && !s.devices.empty() ? "cuda" : "cpu";
}

AttentionBenchResult bench_attention_step(const AttentionBenchConfig& c) {
  check_config(c);
  AttentionOptions o = c.attention;
  validate(o, c.head_dim, o.skip_layers);
  const std::unique_ptr<BenchBackend> be = make_bench_backend(c.backend == "auto" ? default_bench_backend() : c.backend);
  const int H = c.n_heads, KV = c.n_kv_heads, D = c.head_dim, n = c.kv_len;

  AttentionBenchResult r;
  r.backend = backend_name(be->backend());
  r.device = be->device_name();
  r.batch = c.batch;
  r.copy_bandwidth_gbs = be->copy_bandwidth_gbs();
  const StepInputs in = be->inputs(H, KV, D, n, c.seed);
  // the method's metadata, as kept up to date while the cache grows (not timed)
  const std::unique_ptr<LayerAttention> layer = make_layer_attention(be->backend(), o, H, KV, D, n, be->stream());
  layer->append(in.kv, 0, n);
  layer->prefill_done(in.kv);
  r.sparse = layer->sparse(n);
  const PhaseBytes bytes = layer->bytes(n);

  auto measure = [&](PhaseResult& p, double phase_bytes, const std::function<void()>& work) {
    PhaseSamples s = sample_phase(be->timer(), c.rule, c.batch, work);
    p.time = std::move(s.cold);
    p.hot = std::move(s.hot);
    p.bytes = phase_bytes;
  };
  // in this order: select needs an estimate at n, attention a selection
  if (r.sparse) {
    if (o.method != Method::Streaming) measure(r.estimate, bytes.estimate, [&] { layer->estimate(in.q, in.kv, n); });
    measure(r.topk, bytes.select, [&] { layer->select(n); });
  }
  measure(r.attention, bytes.attend, [&] { layer->attend(in.out, in.q, in.kv, n); });
  if (r.sparse)
    measure(r.total, bytes.total(), [&] { layer->step(in.out, in.q, in.kv, n); });
  else
    r.total = r.attention;  // dense: the step is the attention
  if (c.measure_full) {
    const std::unique_ptr<LayerAttention> full =
        make_layer_attention(be->backend(), AttentionOptions{}, H, KV, D, n, be->stream());
    measure(r.full, full->bytes(n).attend, [&] { full->attend(in.out, in.q, in.kv, n); });
  }
  be->timer().sync();
  return r;
}

}  // namespace adamas::bench
