#include "attention/options.h"

#include "common/error.h"

namespace adamas {

const char* method_name(Method m) {
  switch (m) {
    case Method::Full: return "full";
    case Method::Streaming: return "streaming";
    case Method::Quest: return "quest";
    case Method::Adamas: return "adamas";
    case Method::Oracle: return "oracle";
  }
  return "?";
}

Method parse_method(const std::string& name) {
  for (Method m : {Method::Full, Method::Streaming, Method::Quest, Method::Adamas, Method::Oracle})
    if (name == method_name(m)) return m;
  throw InvalidArgument("unknown attention method '" + name + "' (expected full, streaming, quest, adamas or oracle)");
}

std::vector<float> default_thresholds(int bits) {
  switch (bits) {
    case 1: return {0.0f};
    case 2: return {-10.0f, 0.0f, 10.0f};
    case 3: return {-15.0f, -10.0f, -5.0f, 0.0f, 5.0f, 10.0f, 15.0f};
  }
  throw InvalidArgument("bits must be 1, 2 or 3 (got " + std::to_string(bits) + ")");
}

void validate(AttentionOptions& o, int head_dim, int n_layers) {
  auto fail = [](const std::string& msg) { throw InvalidArgument(msg); };
  if (o.skip_layers < 0 || o.skip_layers > n_layers)
    fail("skip_layers must be in 0.." + std::to_string(n_layers) + " (got " + std::to_string(o.skip_layers) + ")");
  if (o.method == Method::Full) return;
  if (o.budget < 1) fail("budget must be >= 1 token (got " + std::to_string(o.budget) + ")");
  if (o.page_size < 1) fail("page_size must be >= 1 (got " + std::to_string(o.page_size) + ")");
  if (o.method == Method::Streaming && o.sink < 0) fail("sink must be >= 0 (got " + std::to_string(o.sink) + ")");
  const bool paged = o.method == Method::Quest || (o.method == Method::Adamas && o.granularity == Granularity::Page);
  if (paged && o.budget < o.page_size)
    fail("budget " + std::to_string(o.budget) + " is smaller than the page size " + std::to_string(o.page_size) +
         ": page-level selection needs a budget of at least one page");
  if (o.method != Method::Adamas) return;
  if (o.bits < 1 || o.bits > 3) fail("bits must be 1, 2 or 3 (got " + std::to_string(o.bits) + ")");
  if (o.hadamard && (head_dim & (head_dim - 1)) != 0)
    fail("the Hadamard transform needs head_dim to be a power of two (got " + std::to_string(head_dim) +
         "); use --no-hadamard");
  const size_t want = (size_t(1) << o.bits) - 1;
  if (o.auto_thresholds) {
    o.thresholds.clear();
    return;
  }
  if (o.thresholds.empty()) o.thresholds = default_thresholds(o.bits);
  if (o.thresholds.size() != want)
    fail(std::to_string(o.bits) + "-bit codes need " + std::to_string(want) + " thresholds (got " +
         std::to_string(o.thresholds.size()) + ")");
  for (size_t i = 1; i < o.thresholds.size(); ++i)
    if (!(o.thresholds[i] > o.thresholds[i - 1]))
      fail("thresholds must be strictly increasing (" + std::to_string(o.thresholds[i - 1]) + " then " +
           std::to_string(o.thresholds[i]) + ")");
}

}  // namespace adamas
