// The one place native exceptions become JS errors, with a `code` the CLI uses to choose its
// message and exit status.
#pragma once
#include <napi.h>

#include <exception>
#include <functional>
#include <string>

namespace adamas::addon {

// A native exception as JS will see it. code is one of
//   ERR_INVALID_OPTION (InvalidArgument), ERR_GGUF (gguf::Error), ERR_UNSUPPORTED_MODEL,
//   ERR_OUT_OF_MEMORY (std::bad_alloc), ERR_NATIVE (anything else).
struct Failure {
  std::string code;
  std::string message;
};
Failure classify(std::exception_ptr error);
Napi::Error to_js_error(Napi::Env env, const Failure& failure);

// Runs fn; a C++ exception becomes a JS Error with .code (see Failure).
Napi::Value guarded(Napi::Env env, const std::function<Napi::Value()>& fn);

}  // namespace adamas::addon
