// class Engine: an engine from make_engine (model/engine.h); choose the attention method, prefill,
// decode. Computations run off the event loop, one at a time. syntheticModels(): the presets of
// model/synthetic.h, [{name: 'synthetic:<preset>', config, parameters}], so that a run can plan
// with their shapes without building an engine.
#include <napi.h>

#include <functional>
#include <memory>
#include <vector>

#include "addon/bindings.h"
#include "addon/js_error.h"
#include "addon/options.h"
#include "addon/promise_task.h"
#include "common/error.h"
#include "model/engine.h"
#include "model/synthetic.h"

namespace adamas::addon {

namespace {

Napi::Object config_to_js(Napi::Env env, const ModelConfig& c) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("arch", c.arch);
  o.Set("name", c.name);
  o.Set("nLayers", c.n_layers);
  o.Set("dModel", c.d_model);
  o.Set("nHeads", c.n_heads);
  o.Set("nKvHeads", c.n_kv_heads);
  o.Set("headDim", c.head_dim);
  o.Set("dFf", c.d_ff);
  o.Set("vocabSize", c.vocab_size);
  o.Set("contextLength", c.context_length);
  o.Set("ropeBase", c.rope.base);
  o.Set("ropeScaling", c.rope.scaling == RopeScaling::None ? "none"
                       : c.rope.scaling == RopeScaling::Linear ? "linear" : "yarn");
  o.Set("tiedEmbeddings", c.tied_embeddings);
  return o;
}

const int32_t* tokens_arg(const Napi::CallbackInfo& info, size_t i, size_t* n) {
  if (info.Length() <= i || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw Napi::TypeError::New(info.Env(), "tokens must be an Int32Array");
  Napi::Int32Array a = info[i].As<Napi::Int32Array>();
  *n = a.ElementLength();
  return a.Data();
}

// The options object at info[i], or an empty one.
Napi::Object options_arg(const Napi::CallbackInfo& info, size_t i) {
  return info.Length() > i && info[i].IsObject() ? info[i].As<Napi::Object>() : Napi::Object::New(info.Env());
}

// Int32Array[] -> lists
std::vector<std::vector<int32_t>> lists_arg(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || !info[i].IsArray())
    throw Napi::TypeError::New(info.Env(), "replayNext(selected: Int32Array[]) (one list per layer and head)");
  Napi::Array a = info[i].As<Napi::Array>();
  std::vector<std::vector<int32_t>> lists(a.Length());
  for (uint32_t j = 0; j < a.Length(); ++j) {
    Napi::Value v = a.Get(j);
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
      throw InvalidArgument("replayNext: entry " + std::to_string(j) + " is not an Int32Array");
    Napi::Int32Array l = v.As<Napi::Int32Array>();
    lists[j].assign(l.Data(), l.Data() + l.ElementLength());
  }
  return lists;
}

Napi::Float32Array to_float32_array(Napi::Env env, const std::vector<float>& v) {
  Napi::Float32Array a = Napi::Float32Array::New(env, v.size());
  std::copy(v.begin(), v.end(), a.Data());
  return a;
}

class EngineWrap : public Napi::ObjectWrap<EngineWrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "Engine",
                       {InstanceAccessor<&EngineWrap::config>("config"),
                        InstanceAccessor<&EngineWrap::length>("length"),
                        InstanceAccessor<&EngineWrap::backend>("backend"),
                        InstanceAccessor<&EngineWrap::device_name>("deviceName"),
                        InstanceAccessor<&EngineWrap::last_decode_ms>("lastDecodeMs"),
                        InstanceMethod<&EngineWrap::set_attention>("setAttention"),
                        InstanceMethod<&EngineWrap::reset>("reset"),
                        InstanceMethod<&EngineWrap::truncate>("truncate"),
                        InstanceMethod<&EngineWrap::reserve>("reserve"),
                        InstanceMethod<&EngineWrap::prefill>("prefill"),
                        InstanceMethod<&EngineWrap::decode>("decode"),
                        InstanceMethod<&EngineWrap::replay_next>("replayNext"),
                        InstanceMethod<&EngineWrap::records>("records")});
  }

  // new Engine(model, {threads?, device?, weightType?, kvCache?, seed?})
  EngineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EngineWrap>(info) {
    Napi::Env env = info.Env();
    guarded(env, [&]() -> Napi::Value {
      if (info.Length() < 1 || !info[0].IsString())
        throw Napi::TypeError::New(env, "new Engine(model: string, options?: {threads?, device?, weightType?, kvCache?, seed?})");
      engine_ = make_engine(info[0].As<Napi::String>().Utf8Value(), parse_engine_options(options_arg(info, 1)));
      return env.Undefined();
    });
  }

 private:
  Napi::Value config(const Napi::CallbackInfo& info) { return config_to_js(info.Env(), engine_->config()); }
  Napi::Value length(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), engine_->length()); }
  Napi::Value backend(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), engine_->backend()); }
  Napi::Value device_name(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), engine_->device_name());
  }
  Napi::Value last_decode_ms(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), engine_->last_decode_ms());
  }

  // A synchronous call that may not overlap a computation.
  Napi::Value sync_call(const Napi::CallbackInfo& info, const std::function<void()>& fn) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      check_idle();
      fn();
      return info.Env().Undefined();
    });
  }

  Napi::Value set_attention(const Napi::CallbackInfo& info) {
    return sync_call(info, [&] {
      if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "setAttention(options)");
      engine_->set_attention(parse_attention(info[0].As<Napi::Object>()));
    });
  }

  Napi::Value reset(const Napi::CallbackInfo& info) {
    return sync_call(info, [&] { engine_->reset(); });
  }

  Napi::Value truncate(const Napi::CallbackInfo& info) {
    return sync_call(info, [&] {
      if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "truncate(length: number)");
      engine_->truncate(info[0].As<Napi::Number>().Int32Value());
    });
  }

  Napi::Value reserve(const Napi::CallbackInfo& info) {
    return sync_call(info, [&] {
      if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "reserve(tokens: number)");
      engine_->reserve(info[0].As<Napi::Number>().Int32Value());
    });
  }

  Napi::Value replay_next(const Napi::CallbackInfo& info) {
    return sync_call(info, [&] { engine_->replay_next(lists_arg(info, 0)); });
  }

  void check_idle() const {
    if (busy_) throw InvalidArgument("the engine is busy: await the previous prefill/decode first");
  }

  // prefill(tokens: Int32Array, {nll?, logits?}) -> Promise<{token, logits?, nll?}>
  Napi::Value prefill(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      size_t n = 0;
      const int32_t* data = tokens_arg(info, 0, &n);
      const Napi::Object opts = options_arg(info, 1);
      const bool want_nll = get_bool(opts, "nll", false), want_logits = get_bool(opts, "logits", false);
      auto tokens = std::make_shared<std::vector<int32_t>>(data, data + n);
      auto logits = std::make_shared<std::vector<float>>(want_logits ? engine_->config().vocab_size : 0);
      auto nll = std::make_shared<std::vector<float>>(want_nll && n > 0 ? n - 1 : 0);
      auto token = std::make_shared<int32_t>(0);
      return run_async(info, [this, tokens, logits, nll, token, want_nll, want_logits] {
        *token = engine_->prefill(tokens->data(), int(tokens->size()), want_logits ? logits->data() : nullptr,
                                  want_nll ? nll->data() : nullptr);
      }, [logits, nll, token, want_nll, want_logits](Napi::Env env) -> Napi::Value {
        Napi::Object out = Napi::Object::New(env);
        out.Set("token", *token);
        if (want_logits) out.Set("logits", to_float32_array(env, *logits));
        if (want_nll) out.Set("nll", to_float32_array(env, *nll));
        return out;
      });
    });
  }

  // decode(token: number, {logits?}) -> Promise<{token, logits?}>: the greedy next token and, when
  // asked, the next-token logits
  Napi::Value decode(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "decode(token: number, options?)");
      const int32_t token = info[0].As<Napi::Number>().Int32Value();
      const bool want_logits = get_bool(options_arg(info, 1), "logits", false);
      auto logits = std::make_shared<std::vector<float>>(want_logits ? engine_->config().vocab_size : 0);
      auto next = std::make_shared<int32_t>(0);
      return run_async(info, [this, token, logits, next, want_logits] {
        *next = engine_->decode(token, want_logits ? logits->data() : nullptr);
      }, [logits, next, want_logits](Napi::Env env) -> Napi::Value {
        Napi::Object out = Napi::Object::New(env);
        out.Set("token", *next);
        if (want_logits) out.Set("logits", to_float32_array(env, *logits));
        return out;
      });
    });
  }

  // One computation at a time: the engine is not reentrant, and JS must await each call.
  Napi::Value run_async(const Napi::CallbackInfo& info, std::function<void()> work,
                        std::function<Napi::Value(Napi::Env)> done) {
    if (busy_) throw InvalidArgument("the engine is busy: await the previous prefill/decode before the next call");
    busy_ = true;
    auto self = std::make_shared<Napi::ObjectReference>(Napi::Persistent(info.This().As<Napi::Object>()));
    auto* task = new PromiseTask(
        info.Env(), std::move(work), [this, self, done = std::move(done)](Napi::Env env) {
          busy_ = false;
          return done(env);
        });
    task->on_error([this] { busy_ = false; });
    Napi::Promise promise = task->promise();
    task->Queue();
    return promise;
  }

  // records({clear?: boolean}) -> {positions: Int32Array, recall?: Float32Array [steps][layers][heads],
  //   selected?: Array<Array<Int32Array>>} ; the records are dropped when clear is true.
  Napi::Value records(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    guarded(env, [&]() -> Napi::Value {
      check_idle();
      return env.Undefined();
    });
    const auto& recs = engine_->records();
    const ModelConfig& c = engine_->config();
    const size_t per_step = size_t(c.n_layers) * c.n_heads;
    Napi::Object out = Napi::Object::New(env);
    Napi::Int32Array positions = Napi::Int32Array::New(env, recs.size());
    for (size_t s = 0; s < recs.size(); ++s) positions[s] = recs[s].position;
    out.Set("positions", positions);
    if (engine_->attention().measure_recall) {
      Napi::Float32Array recall = Napi::Float32Array::New(env, recs.size() * per_step);
      for (size_t s = 0; s < recs.size(); ++s)
        std::copy(recs[s].recall.begin(), recs[s].recall.end(), recall.Data() + s * per_step);
      out.Set("recall", recall);
    }
    if (engine_->attention().record_selection) {
      Napi::Array steps = Napi::Array::New(env, recs.size());
      for (size_t s = 0; s < recs.size(); ++s) {
        Napi::Array heads = Napi::Array::New(env, per_step);
        for (size_t i = 0; i < per_step; ++i) {
          const auto& idx = recs[s].selected[i];
          Napi::Int32Array a = Napi::Int32Array::New(env, idx.size());
          std::copy(idx.begin(), idx.end(), a.Data());
          heads.Set(uint32_t(i), a);
        }
        steps.Set(uint32_t(s), heads);
      }
      out.Set("selected", steps);
    }
    if (info.Length() > 0 && info[0].IsObject() && get_bool(info[0].As<Napi::Object>(), "clear", false))
      engine_->clear_records();
    return out;
  }

  std::unique_ptr<Engine> engine_;
  bool busy_ = false;
};

Napi::Value synthetic_models(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::vector<std::string> presets = synthetic_presets();
  Napi::Array out = Napi::Array::New(env, presets.size());
  for (size_t i = 0; i < presets.size(); ++i) {
    const ModelConfig c = synthetic_config("synthetic:" + presets[i]);
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", c.name);
    o.Set("config", config_to_js(env, c));
    o.Set("parameters", double(synthetic_weight_bytes(c) / 4));  // every parameter a float32 there
    out.Set(uint32_t(i), o);
  }
  return out;
}

}  // namespace

void register_engine(Napi::Env env, Napi::Object exports) {
  exports.Set("Engine", EngineWrap::define(env));
  exports.Set("syntheticModels", Napi::Function::New(env, synthetic_models, "syntheticModels"));
}

}  // namespace adamas::addon
