// A computation off the event loop, settling a promise.
#pragma once
#include <napi.h>

#include <functional>

#include "addon/js_error.h"

namespace adamas::addon {

// Runs `work` on the libuv thread pool, so the event loop stays free while the engine computes, and
// settles the returned promise with `done(env)` on the main thread, or with the classified error.
class PromiseTask : public Napi::AsyncWorker {
 public:
  PromiseTask(Napi::Env env, std::function<void()> work, std::function<Napi::Value(Napi::Env)> done)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), work_(std::move(work)),
        done_(std::move(done)) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  // Called on the main thread before the promise is rejected.
  void on_error(std::function<void()> fn) { on_error_ = std::move(fn); }

 protected:
  void Execute() override;
  void OnOK() override;
  void OnError(const Napi::Error& e) override;

 private:
  Napi::Promise::Deferred deferred_;
  std::function<void()> work_;
  std::function<Napi::Value(Napi::Env)> done_;
  std::function<void()> on_error_;
  Failure failure_;
};

}  // namespace adamas::addon
