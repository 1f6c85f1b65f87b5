// class Engine: load a GGUF model, choose the attention method, prefill, decode.
#include <napi.h>

#include <functional>
#include <memory>
#include <vector>

#include "addon/bindings.h"
#include "addon/convert.h"
#include "common/error.h"
#include "model/engine.h"

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

class EngineWrap : public Napi::ObjectWrap<EngineWrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "Engine",
                       {InstanceAccessor<&EngineWrap::config>("config"),
                        InstanceAccessor<&EngineWrap::length>("length"),
                        InstanceMethod<&EngineWrap::set_attention>("setAttention"),
                        InstanceMethod<&EngineWrap::reset>("reset"),
                        InstanceMethod<&EngineWrap::truncate>("truncate"),
                        InstanceMethod<&EngineWrap::prefill>("prefill"),
                        InstanceMethod<&EngineWrap::decode>("decode"),
                        InstanceMethod<&EngineWrap::records>("records")});
  }

  EngineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EngineWrap>(info) {
    Napi::Env env = info.Env();
    guarded(env, [&]() -> Napi::Value {
      if (info.Length() < 1 || !info[0].IsString())
        throw Napi::TypeError::New(env, "new Engine(path: string, options?: {threads?: number})");
      EngineOptions opts;
      if (info.Length() > 1 && info[1].IsObject()) opts.threads = get_int(info[1].As<Napi::Object>(), "threads", 0);
      engine_ = make_engine(info[0].As<Napi::String>().Utf8Value(), opts);
      return env.Undefined();
    });
  }

 private:
  Napi::Value config(const Napi::CallbackInfo& info) { return config_to_js(info.Env(), engine_->config()); }
  Napi::Value length(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), engine_->length()); }

  Napi::Value set_attention(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      check_idle();
      if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "setAttention(options)");
      engine_->set_attention(parse_attention(info[0].As<Napi::Object>()));
      return info.Env().Undefined();
    });
  }

  Napi::Value reset(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      check_idle();
      engine_->reset();
      return info.Env().Undefined();
    });
  }

  void check_idle() const {
    if (busy_) throw InvalidArgument("the engine is busy: await the previous prefill/decode first");
  }

  Napi::Value truncate(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      check_idle();
      if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "truncate(length: number)");
      engine_->truncate(info[0].As<Napi::Number>().Int32Value());
      return info.Env().Undefined();
    });
  }

  // prefill(tokens: Int32Array, options?: {nll?: boolean}) -> Promise<{logits, nll?}>
  Napi::Value prefill(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      size_t n = 0;
      const int32_t* data = tokens_arg(info, 0, &n);
      const bool want_nll = info.Length() > 1 && info[1].IsObject() && get_bool(info[1].As<Napi::Object>(), "nll", false);
      auto tokens = std::make_shared<std::vector<int32_t>>(data, data + n);
      auto logits = std::make_shared<std::vector<float>>(engine_->config().vocab_size);
      auto nll = std::make_shared<std::vector<float>>(want_nll && n > 0 ? n - 1 : 0);
      return run_async(info, [this, tokens, logits, nll, want_nll] {
        engine_->prefill(tokens->data(), int(tokens->size()), logits->data(), want_nll ? nll->data() : nullptr);
      }, [logits, nll, want_nll](Napi::Env env) -> Napi::Value {
        Napi::Object out = Napi::Object::New(env);
        out.Set("logits", to_float32_array(env, *logits));
        if (want_nll) out.Set("nll", to_float32_array(env, *nll));
        return out;
      });
    });
  }

  // decode(token: number) -> Promise<Float32Array> (the next-token logits)
  Napi::Value decode(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "decode(token: number)");
      const int32_t token = info[0].As<Napi::Number>().Int32Value();
      auto logits = std::make_shared<std::vector<float>>(engine_->config().vocab_size);
      return run_async(info, [this, token, logits] { engine_->decode(token, logits->data()); },
                       [logits](Napi::Env env) -> Napi::Value { return to_float32_array(env, *logits); });
    });
  }

  static Napi::Float32Array to_float32_array(Napi::Env env, const std::vector<float>& v) {
    Napi::Float32Array a = Napi::Float32Array::New(env, v.size());
    std::copy(v.begin(), v.end(), a.Data());
    return a;
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

}  // namespace

void register_engine(Napi::Env env, Napi::Object exports) {
  exports.Set("Engine", EngineWrap::define(env));
}

}  // namespace adamas::addon
