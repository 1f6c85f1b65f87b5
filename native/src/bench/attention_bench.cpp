#include "bench/attention_bench.h"

#include <algorithm>
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
  if (c.sequences < 1) throw InvalidArgument("sequences must be >= 1 (got " + std::to_string(c.sequences) + ")");
  if (!c.seq_lens.empty() && int(c.seq_lens.size()) != c.sequences)
    throw InvalidArgument("seq_lens holds " + std::to_string(c.seq_lens.size()) + " lengths for " +
                          std::to_string(c.sequences) + " sequences");
  for (int n : c.seq_lens)
    if (n < 1) throw InvalidArgument("seq_lens must be >= 1 (got " + std::to_string(n) + ")");
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
  const int H = c.n_heads, KV = c.n_kv_heads, D = c.head_dim;
  const std::vector<int> lens = c.seq_lens.empty() ? std::vector<int>(size_t(c.sequences), c.kv_len) : c.seq_lens;
  const int n = *std::max_element(lens.begin(), lens.end());  // the capacity, and the n the phases are given

  AttentionBenchResult r;
  r.backend = backend_name(be->backend());
  r.device = be->device_name();
  r.batch = c.batch;
  r.seq_lens = lens;
  r.copy_bandwidth_gbs = be->copy_bandwidth_gbs();
  r.facts = be->facts();
  const StepInputs in = be->inputs(H, KV, D, n, c.sequences, c.seed);
  // the method's metadata, as kept up to date while the cache grows (not timed); every sequence's
  // over the capacity
  const std::unique_ptr<LayerAttention> layer = be->layer(o, H, KV, D, n, in, lens);
  layer->append(in.kv, 0, n);
  layer->prefill_done(in.kv);
  r.sparse = layer->sparse(n);
  for (int len : lens)
    if (layer->sparse(len) != r.sparse)
      throw InvalidArgument("seq_lens mix lengths at and above the budget " + std::to_string(o.budget) +
                            ": a batched step is sparse or dense for all its sequences");
  PhaseBytes bytes;
  for (int len : lens) {
    const PhaseBytes b = layer->bytes(len);
    bytes.estimate += b.estimate;
    bytes.select += b.select;
    bytes.attend += b.attend;
  }

  ClockSampler clocks(r.facts.pci_bus_id);
  auto measure = [&](PhaseResult& p, double phase_bytes, const std::function<void()>& work) {
    PhaseSamples s = sample_phase(be->timer(), c.rule, c.batch, work);
    p.time = std::move(s.cold);
    p.hot = std::move(s.hot);
    p.bytes = phase_bytes;
  };
  // in this order: select needs an estimate at n, attention a selection. StreamingLLM has neither
  // (its window is computed in the attention kernel on CUDA; on the CPU its select is a copy)
  const bool streaming_gpu = o.method == Method::Streaming && be->backend() == Backend::Cuda;
  if (r.sparse) {
    if (o.method != Method::Streaming) measure(r.estimate, bytes.estimate, [&] { layer->estimate(in.q, in.kv, n); });
    if (!streaming_gpu) measure(r.topk, bytes.select, [&] { layer->select(n); });
  }
  measure(r.attention, bytes.attend, [&] { layer->attend(in.out, in.q, in.kv, n); });
  if (r.sparse)
    measure(r.total, bytes.total(), [&] { layer->step(in.out, in.q, in.kv, n); });
  else
    r.total = r.attention;  // dense: the step is the attention
  if (c.measure_full) {
    const std::unique_ptr<LayerAttention> full = be->layer(AttentionOptions{}, H, KV, D, n, in, lens);
    double full_bytes = 0;
    for (int len : lens) full_bytes += full->bytes(len).attend;
    measure(r.full, full_bytes, [&] { full->attend(in.out, in.q, in.kv, n); });
  }
  if (const std::function<void()> empty = be->empty_step()) measure(r.launch, 0, empty);
  be->timer().sync();
  r.clocks = clocks.stop();
  return r;
}

}  // namespace adamas::bench
