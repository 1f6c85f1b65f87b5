#include "addon/options.h"

#include <cmath>

#include "common/error.h"

namespace adamas::addon {

bool has(const Napi::Object& o, const char* key) {
  return o.Has(key) && !o.Get(key).IsUndefined() && !o.Get(key).IsNull();
}

int get_int(const Napi::Object& o, const char* key, int def) {
  if (!has(o, key)) return def;
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw InvalidArgument(std::string(key) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 2e9)
    throw InvalidArgument(std::string(key) + " must be an integer (got " + std::to_string(d) + ")");
  return int(d);
}

bool get_bool(const Napi::Object& o, const char* key, bool def) {
  if (!has(o, key)) return def;
  Napi::Value v = o.Get(key);
  if (!v.IsBoolean()) throw InvalidArgument(std::string(key) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

double get_number(const Napi::Object& o, const char* key, double def) {
  if (!has(o, key)) return def;
  Napi::Value v = o.Get(key);
  if (!v.IsNumber() || !std::isfinite(v.As<Napi::Number>().DoubleValue()))
    throw InvalidArgument(std::string(key) + " must be a finite number");
  return v.As<Napi::Number>().DoubleValue();
}

std::string get_string(const Napi::Object& o, const char* key, const std::string& def) {
  if (!has(o, key)) return def;
  Napi::Value v = o.Get(key);
  if (!v.IsString()) throw InvalidArgument(std::string(key) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

namespace {

// A non-negative integer that a double holds exactly (below 2^53).
uint64_t get_seed(const Napi::Object& o, const char* key, uint64_t def) {
  if (!has(o, key)) return def;
  const double d = get_number(o, key, 0);
  if (d < 0 || d != std::floor(d) || d > 9007199254740991.0)
    throw InvalidArgument(std::string(key) + " must be an integer in [0, 2^53) (got " + std::to_string(d) + ")");
  return uint64_t(d);
}

}  // namespace

AttentionOptions parse_attention(const Napi::Object& o) {
  AttentionOptions a;
  a.method = parse_method(get_string(o, "method", "full"));
  a.budget = get_int(o, "budget", 0);
  a.skip_layers = get_int(o, "skipLayers", a.skip_layers);
  const std::string gqa = get_string(o, "gqa", "query");
  if (gqa != "query" && gqa != "kv") throw InvalidArgument("gqa must be 'query' or 'kv' (got '" + gqa + "')");
  a.gqa = gqa == "kv" ? GqaSelection::PerKvHead : GqaSelection::PerQueryHead;
  a.sink = get_int(o, "sink", a.sink);
  a.page_size = get_int(o, "pageSize", a.page_size);
  a.hadamard = get_bool(o, "hadamard", a.hadamard);
  const std::string dist = get_string(o, "distance", "l1");
  if (dist != "l1" && dist != "l2") throw InvalidArgument("distance must be 'l1' or 'l2' (got '" + dist + "')");
  a.distance = dist == "l2" ? Distance::L2 : Distance::L1;
  a.bits = get_int(o, "bits", a.bits);
  const std::string gran = get_string(o, "granularity", "token");
  if (gran != "token" && gran != "page")
    throw InvalidArgument("granularity must be 'token' or 'page' (got '" + gran + "')");
  a.granularity = gran == "page" ? Granularity::Page : Granularity::Token;
  if (has(o, "thresholds")) {
    Napi::Value t = o.Get("thresholds");
    if (t.IsString() && t.As<Napi::String>().Utf8Value() == "auto") {
      a.auto_thresholds = true;
    } else if (t.IsArray()) {
      Napi::Array arr = t.As<Napi::Array>();
      for (uint32_t i = 0; i < arr.Length(); ++i) {
        if (!arr.Get(i).IsNumber()) throw InvalidArgument("thresholds must be numbers or 'auto'");
        a.thresholds.push_back(arr.Get(i).As<Napi::Number>().FloatValue());
      }
    } else {
      throw InvalidArgument("thresholds must be an array of numbers or 'auto'");
    }
  }
  a.measure_recall = get_bool(o, "measureRecall", false);
  a.record_selection = get_bool(o, "recordSelection", false);
  return a;
}

EngineOptions parse_engine_options(const Napi::Object& o) {
  EngineOptions e;
  e.threads = get_int(o, "threads", e.threads);
  e.device = get_string(o, "device", e.device);
  e.weight_type = get_string(o, "weightType", e.weight_type);
  e.kv_type = get_string(o, "kvCache", e.kv_type);
  e.seed = get_seed(o, "seed", e.seed);
  return e;
}

bench::AttentionBenchConfig parse_bench_config(const Napi::Object& o) {
  bench::AttentionBenchConfig c;
  c.backend = get_string(o, "backend", c.backend);
  c.attention = parse_attention(o);
  c.n_heads = get_int(o, "nHeads", c.n_heads);
  c.n_kv_heads = get_int(o, "nKvHeads", c.n_kv_heads);
  c.head_dim = get_int(o, "headDim", c.head_dim);
  c.kv_len = get_int(o, "kvLen", c.kv_len);
  c.rule.min_samples = get_int(o, "minSamples", c.rule.min_samples);
  c.rule.min_time_s = get_number(o, "minTime", c.rule.min_time_s);
  c.rule.max_noise = get_number(o, "maxNoise", c.rule.max_noise);
  c.rule.timeout_s = get_number(o, "timeout", c.rule.timeout_s);
  c.batch = get_int(o, "batch", c.batch);
  c.measure_full = get_bool(o, "measureFull", c.measure_full);
  c.seed = uint32_t(get_seed(o, "seed", c.seed));
  return c;
}

}  // namespace adamas::addon
