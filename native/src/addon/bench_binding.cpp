// benchAttention(options) -> Promise<result>: times one layer's decode step (bench/attention_bench.h)
// off the event loop. Samples are in microseconds; bytes are what each phase must move.
#include <napi.h>

#include <cmath>
#include <memory>

#include "addon/bindings.h"
#include "addon/convert.h"
#include "bench/attention_bench.h"
#include "common/error.h"

namespace adamas::addon {

namespace {

double get_number(const Napi::Object& o, const char* key, double def) {
  if (!has(o, key)) return def;
  Napi::Value v = o.Get(key);
  if (!v.IsNumber() || !std::isfinite(v.As<Napi::Number>().DoubleValue()))
    throw InvalidArgument(std::string(key) + " must be a finite number");
  return v.As<Napi::Number>().DoubleValue();
}

bench::AttentionBenchConfig parse_config(const Napi::Object& o) {
  bench::AttentionBenchConfig c;
  c.backend = get_string(o, "backend", c.backend);
  c.attention = parse_attention(o);
  c.n_heads = get_int(o, "nHeads", c.n_heads);
  c.n_kv_heads = get_int(o, "nKvHeads", c.n_kv_heads);
  c.head_dim = get_int(o, "headDim", c.head_dim);
  c.kv_len = get_int(o, "kvLen", c.kv_len);
  c.rule.min_samples = get_int(o, "minSamples", c.rule.min_samples);
  c.rule.min_time_s = get_number(o, "minTime", c.rule.min_time_s);
  c.rule.max_noise = get_number(o, "maxNoise", c.rule.max_noise);
  c.rule.timeout_s = get_number(o, "timeout", c.rule.timeout_s);
  c.batch = get_int(o, "batch", c.batch);
  c.measure_full = get_bool(o, "measureFull", c.measure_full);
  c.seed = uint32_t(get_int(o, "seed", int(c.seed)));
  return c;
}

Napi::Value to_js(Napi::Env env, const bench::AttentionBenchResult& r) {
  auto samples = [env](const bench::Samples& s) {
    Napi::Array a = Napi::Array::New(env, s.us.size());
    for (size_t i = 0; i < s.us.size(); ++i) a.Set(uint32_t(i), s.us[i]);
    return a;
  };
  Napi::Object out = Napi::Object::New(env);
  Napi::Object bytes = Napi::Object::New(env), hot = Napi::Object::New(env);
  const std::pair<const char*, const bench::PhaseResult*> phases[] = {
      {"estimate", &r.estimate}, {"topk", &r.topk}, {"attention", &r.attention}, {"total", &r.total}, {"full", &r.full}};
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
  return out;
}

Napi::Value bench_attention(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsObject()) throw InvalidArgument("benchAttention expects an options object");
    const bench::AttentionBenchConfig config = parse_config(info[0].As<Napi::Object>());
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
