#include "addon/promise_task.h"

namespace adamas::addon {

void PromiseTask::Execute() {
  try {
    work_();
  } catch (...) {
    failure_ = classify(std::current_exception());
    SetError(failure_.message);
  }
}

void PromiseTask::OnOK() {
  try {
    deferred_.Resolve(done_(Env()));
  } catch (const Napi::Error& e) {
    deferred_.Reject(e.Value());
  }
}

void PromiseTask::OnError(const Napi::Error&) {
  if (on_error_) on_error_();
  deferred_.Reject(to_js_error(Env(), failure_).Value());
}

}  // namespace adamas::addon
