// benchAttention(options) -> Promise<result>: times one layer's decode step (bench/attention_bench.h)
// off the event loop. Samples are in microseconds (cold per phase, hot under `hot`); bytes are what
// each phase must move (summed over the sequences). Options beyond parse_bench_config's:
// sequences (sequences stepped together) and seqLens (their lengths). The result adds seqLens,
// the device's facts (driverVersion, runtimeVersion, l2Bytes, driver) and the clocks sampled
// while the case ran ({available, samples, smMinMHz, smMaxMHz, memMinMHz, memMaxMHz, throttled,
// note}).
#include <napi.h>

#include <memory>

#include "addon/bindings.h"
#include "addon/js_error.h"
#include "addon/options.h"
#include "addon/promise_task.h"
#include "bench/attention_bench.h"
#include "common/error.h"

namespace adamas::addon {

namespace {

Napi::Value to_js(Napi::Env env, const bench::AttentionBenchResult& r) {
  auto samples = [env](const bench::Samples& s) {
    Napi::Array a = Napi::Array::New(env, s.us.size());
    for (size_t i = 0; i < s.us.size(); ++i) a.Set(uint32_t(i), s.us[i]);
    return a;
  };
  Napi::Object out = Napi::Object::New(env);
  Napi::Object bytes = Napi::Object::New(env), hot = Napi::Object::New(env);
  const std::pair<const char*, const bench::PhaseResult*> phases[] = {
      {"estimate", &r.estimate}, {"topk", &r.topk}, {"attention", &r.attention}, {"total", &r.total}, {"full", &r.full},
      {"launch", &r.launch}};
  for (const auto& [name, p] : phases) {
    out.Set(name, samples(p->time));
    hot.Set(name, samples(p->hot));
    bytes.Set(name, p->bytes);
  }
  out.Set("bytes", bytes);
  out.Set("hot", hot);
  out.Set("batch", r.batch);
  out.Set("copyBandwidthGBs", r.copy_bandwidth_gbs);
  out.Set("device", r.device);
  out.Set("backend", r.backend);
  out.Set("sparse", r.sparse);
  Napi::Array lens = Napi::Array::New(env, r.seq_lens.size());
  for (size_t i = 0; i < r.seq_lens.size(); ++i) lens.Set(uint32_t(i), r.seq_lens[i]);
  out.Set("seqLens", lens);
  out.Set("driver", r.facts.driver);
  out.Set("driverVersion", r.facts.driver_version);
  out.Set("runtimeVersion", r.facts.runtime_version);
  out.Set("l2Bytes", double(r.facts.l2_bytes));
  Napi::Object clocks = Napi::Object::New(env);
  clocks.Set("available", r.clocks.available);
  clocks.Set("samples", r.clocks.samples);
  clocks.Set("smMinMHz", r.clocks.sm_min_mhz);
  clocks.Set("smMaxMHz", r.clocks.sm_max_mhz);
  clocks.Set("memMinMHz", r.clocks.mem_min_mhz);
  clocks.Set("memMaxMHz", r.clocks.mem_max_mhz);
  clocks.Set("throttled", r.clocks.throttled);
  clocks.Set("note", r.clocks.note);
  out.Set("clocks", clocks);
  return out;
}

// sequences and seqLens (an array of positive integers) on top of parse_bench_config.
void parse_sequences(const Napi::Object& o, bench::AttentionBenchConfig& c) {
  c.sequences = get_int(o, "sequences", c.sequences);
  if (!has(o, "seqLens")) return;
  const Napi::Value v = o.Get("seqLens");
  if (!v.IsArray()) throw InvalidArgument("seqLens must be an array of lengths");
  const Napi::Array a = v.As<Napi::Array>();
  c.seq_lens.clear();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    const Napi::Value x = a.Get(i);
    if (!x.IsNumber()) throw InvalidArgument("seqLens[" + std::to_string(i) + "] must be a number");
    c.seq_lens.push_back(x.As<Napi::Number>().Int32Value());
  }
  if (!has(o, "sequences")) c.sequences = int(c.seq_lens.size());
}

Napi::Value bench_attention(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsObject()) throw InvalidArgument("benchAttention expects an options object");
    bench::AttentionBenchConfig config = parse_bench_config(info[0].As<Napi::Object>());
    parse_sequences(info[0].As<Napi::Object>(), config);
    auto result = std::make_shared<bench::AttentionBenchResult>();
    auto* task = new PromiseTask(
        env, [config, result] { *result = bench::bench_attention_step(config); },
        [result](Napi::Env e) { return to_js(e, *result); });
    Napi::Promise promise = task->promise();
    task->Queue();
    return promise;
  });
}

}  // namespace

void register_bench(Napi::Env env, Napi::Object exports) {
  exports.Set("benchAttention", Napi::Function::New(env, bench_attention, "benchAttention"));
}

}  // namespace adamas::addon
