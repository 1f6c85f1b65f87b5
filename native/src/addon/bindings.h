// Each binding file registers its exports here; addon.cpp calls them all.
#pragma once
#include <napi.h>

namespace adamas::addon {

void register_gguf(Napi::Env env, Napi::Object exports);
void register_engine(Napi::Env env, Napi::Object exports);
void register_build_info(Napi::Env env, Napi::Object exports);
void register_bench(Napi::Env env, Napi::Object exports);
void register_selftest(Napi::Env env, Napi::Object exports);

}  // namespace adamas::addon
