// selftest({seed?, device?}) -> Promise<result>: the layer attention selftest (selftest/selftest.h)
// off the event loop. device: 'cpu' (the CPU layer against the plain reference only), 'cuda' or
// 'auto' (the CUDA layer against the CPU's too, where this build and machine have CUDA; else the
// result says why not). seed: a non-negative integer below 2^53; without it, one from the clock.
// Result: {seed, seconds, cuda: {run, reason?, device?}, rows: [{backend, against, check, shape,
// method, value, tolerance, pass, note?}]} (value: Infinity for a non-finite output).
#include <napi.h>

#include <cmath>
#include <memory>

#include "addon/bindings.h"
#include "addon/js_error.h"
#include "addon/options.h"
#include "addon/promise_task.h"
#include "common/error.h"
#include "selftest/selftest.h"

namespace adamas::addon {

namespace {

selftest::Options parse_selftest_options(const Napi::Object& o) {
  const Napi::Array keys = o.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    const std::string key = keys.Get(i).ToString().Utf8Value();
    if (key != "seed" && key != "device") throw InvalidArgument("selftest: unknown option '" + key + "' (options: seed, device)");
  }
  selftest::Options s;
  const std::string device = get_string(o, "device", "auto");
  if (device != "auto" && device != "cpu" && device != "cuda")
    throw InvalidArgument("device must be 'cpu', 'cuda' or 'auto' (got '" + device + "')");
  s.cuda = device != "cpu";
  if (has(o, "seed")) {
    const double d = get_number(o, "seed", 0);
    if (d < 0 || d != std::floor(d) || d > 9007199254740991.0)
      throw InvalidArgument("seed must be an integer in [0, 2^53) (got " + std::to_string(d) + ")");
    s.seed = uint64_t(d);
  } else {
    s.seed = selftest::clock_seed();
  }
  return s;
}

Napi::Value to_js(Napi::Env env, const selftest::Result& r) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("seed", double(r.seed));
  out.Set("seconds", r.seconds);
  Napi::Object cuda = Napi::Object::New(env);
  cuda.Set("run", r.cuda_run);
  if (!r.cuda_reason.empty()) cuda.Set("reason", r.cuda_reason);
  if (!r.cuda_device.empty()) cuda.Set("device", r.cuda_device);
  out.Set("cuda", cuda);
  Napi::Array rows = Napi::Array::New(env, r.rows.size());
  for (size_t i = 0; i < r.rows.size(); ++i) {
    const selftest::Row& x = r.rows[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("backend", x.backend);
    o.Set("against", x.against);
    o.Set("check", x.check);
    o.Set("shape", x.shape);
    o.Set("method", x.method);
    o.Set("value", x.value);
    o.Set("tolerance", x.tolerance);
    o.Set("pass", x.pass);
    if (!x.note.empty()) o.Set("note", x.note);
    rows.Set(uint32_t(i), o);
  }
  out.Set("rows", rows);
  return out;
}

Napi::Value run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    if (info.Length() > 0 && !info[0].IsUndefined() && !info[0].IsObject())
      throw InvalidArgument("selftest expects an options object ({seed?, device?})");
    const Napi::Object o = info.Length() > 0 && info[0].IsObject() ? info[0].As<Napi::Object>() : Napi::Object::New(env);
    const selftest::Options opts = parse_selftest_options(o);
    auto result = std::make_shared<selftest::Result>();
    auto* task = new PromiseTask(
        env, [opts, result] { *result = selftest::run_selftest(opts); },
        [result](Napi::Env e) { return to_js(e, *result); });
    Napi::Promise promise = task->promise();
    task->Queue();
    return promise;
  });
}

}  // namespace

void register_selftest(Napi::Env env, Napi::Object exports) {
  exports.Set("selftest", Napi::Function::New(env, run, "selftest"));
}

}  // namespace adamas::addon
