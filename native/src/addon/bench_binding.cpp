// benchAttention(options) -> Promise<result>: times one layer's decode step (bench/attention_bench.h)
// off the event loop. Samples are in microseconds (cold per phase, hot under `hot`); bytes are what
// each phase must move.
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
    const bench::AttentionBenchConfig config = parse_bench_config(info[0].As<Napi::Object>());
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
