// StreamingLLM: attention sinks plus a window of recent tokens.
//
// Budget B = KV tokens each query head attends to at a decode step, the current token (position
// n - 1) included; a step is sparse when n > B.
// With sink' = min(sink, B - 1), every query head attends to positions [0, sink') and to the
// B - sink' most recent positions [n - (B - sink'), n). The window always holds the current
// token; B = 1 gives the current token alone. The set depends on nothing but n, so GQA per query
// head and per KV head coincide, no metadata is kept and there is no estimate.
#include <algorithm>

#include "attention/cpu/layer.h"

namespace adamas::cpu {

namespace {

class StreamingLayer final : public Layer {
 public:
  StreamingLayer(const AttentionOptions& opts, int n_heads, int n_kv_heads, int head_dim)
      : Layer(opts, n_heads, n_kv_heads, head_dim) {}

 private:
  void select_sparse(int n, Selection& sel) override {
    const int B = opts_.budget, sink = std::min(opts_.sink, B - 1), recent = B - sink;
    std::vector<int32_t>& first = sel.heads[0];
    first.resize(size_t(B));
    for (int i = 0; i < sink; ++i) first[i] = i;
    for (int i = 0; i < recent; ++i) first[sink + i] = n - recent + i;
    for (int h = 1; h < H_; ++h) sel.heads[h].assign(first.begin(), first.end());
  }

  double select_bytes(int) const override { return 4.0 * opts_.budget; }  // one list written
  int distinct_lists() const override { return KV_; }                      // the same list for every head
};

}  // namespace

std::unique_ptr<LayerAttention> make_streaming_layer(const AttentionOptions& opts, int n_heads, int n_kv_heads,
                                                     int head_dim) {
  return std::make_unique<StreamingLayer>(opts, n_heads, n_kv_heads, head_dim);
}

}  // namespace adamas::cpu
