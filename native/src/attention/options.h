// Attention method and its knobs, as chosen per run (semantics: DESIGN.md "Methods").
#pragma once
#include <string>
#include <vector>

namespace adamas {

enum class Method { Full, Streaming, Quest, Adamas, Oracle };
enum class GqaSelection { PerQueryHead, PerKvHead };
enum class Distance { L1, L2 };
enum class Granularity { Token, Page };

struct AttentionOptions {
  Method method = Method::Full;
  int budget = 0;       // KV tokens a query head attends to at a decode step, current one included
  int skip_layers = 2;  // the first layers always use full attention
  GqaSelection gqa = GqaSelection::PerQueryHead;
  // streaming
  int sink = 4;
  // quest (and adamas with page granularity)
  int page_size = 16;
  // adamas
  bool hadamard = true;
  Distance distance = Distance::L1;
  int bits = 2;
  Granularity granularity = Granularity::Token;
  std::vector<float> thresholds;  // empty: the defaults for `bits`
  bool auto_thresholds = false;   // per layer and KV head, quantiles of the prefill keys
  // instrumentation
  bool measure_recall = false;    // softmax mass of full attention that falls on the selection
  bool record_selection = false;  // keep the selected token indices of every step, layer and head
};

const char* method_name(Method m);
Method parse_method(const std::string& name);  // throws InvalidArgument naming the value

// Default thresholds for b-bit codes: 1 bit [0]; 2 bits [-10, 0, 10]; 3 bits [-15, -10, ..., 15].
std::vector<float> default_thresholds(int bits);

// Checks every knob against the model's head_dim; throws InvalidArgument with the option's name
// (e.g. "budget must be >= 1 (got 0)"). Fills in default thresholds.
void validate(AttentionOptions& opts, int head_dim, int n_layers);

}  // namespace adamas
