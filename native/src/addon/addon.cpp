// Module entry: collects the exports of every binding file.
#include "addon/bindings.h"

namespace {

Napi::Object init(Napi::Env env, Napi::Object exports) {
  adamas::addon::register_gguf(env, exports);
  adamas::addon::register_engine(env, exports);
  adamas::addon::register_build_info(env, exports);
  adamas::addon::register_bench(env, exports);
  adamas::addon::register_selftest(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(adamas_native, init)
