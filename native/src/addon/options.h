// Typed reads of JS options objects into the native option structs; a wrong type or value throws
// InvalidArgument naming the key.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>

#include "attention/options.h"
#include "bench/attention_bench.h"
#include "model/engine.h"

namespace adamas::addon {

bool has(const Napi::Object& o, const char* key);
int get_int(const Napi::Object& o, const char* key, int def);
bool get_bool(const Napi::Object& o, const char* key, bool def);
double get_number(const Napi::Object& o, const char* key, double def);
std::string get_string(const Napi::Object& o, const char* key, const std::string& def);

// The attention method and knobs (NativeAttentionOptions in src/native/addon.ts). Not yet
// validated against a model: see validate() in attention/options.h.
AttentionOptions parse_attention(const Napi::Object& o);
// {threads?, device?, weightType?, kvCache?, seed?}
EngineOptions parse_engine_options(const Napi::Object& o);
// BenchAttentionOptions: the attention knobs, the shape, the stopping rule, batch, seed.
bench::AttentionBenchConfig parse_bench_config(const Napi::Object& o);

}  // namespace adamas::addon
