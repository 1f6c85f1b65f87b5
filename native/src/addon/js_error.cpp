#include "addon/js_error.h"

#include <new>

#include "common/error.h"
#include "gguf/gguf.h"

namespace adamas::addon {

Failure classify(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const InvalidArgument& e) {
    return {"ERR_INVALID_OPTION", e.what()};
  } catch (const gguf::Error& e) {
    return {"ERR_GGUF", e.what()};
  } catch (const UnsupportedModel& e) {
    return {"ERR_UNSUPPORTED_MODEL", e.what()};
  } catch (const std::bad_alloc&) {
    return {"ERR_OUT_OF_MEMORY", "out of host memory"};
  } catch (const std::exception& e) {
    return {"ERR_NATIVE", e.what()};
  } catch (...) {
    return {"ERR_NATIVE", "unknown native exception"};
  }
}

Napi::Error to_js_error(Napi::Env env, const Failure& failure) {
  Napi::Error err = Napi::Error::New(env, failure.message);
  err.Set("code", Napi::String::New(env, failure.code));
  return err;
}

Napi::Value guarded(Napi::Env env, const std::function<Napi::Value()>& fn) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    throw to_js_error(env, classify(std::current_exception()));
  }
}

}  // namespace adamas::addon
