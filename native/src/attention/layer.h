// One layer's attention at a decode step, for every method, on one backend: the method's metadata
// (Quest page bounds, Adamas key codes, ...) kept in step with that layer's KV cache, and the
// phases of a step: estimate (page scores, code distances, q.k scores), select (top-k into
// position lists), attend (exact softmax attention over the lists, or over everything).
// The engine and the `kernels` benchmark drive only this interface, on either backend, so the code
// that is timed is the code that makes the accuracy numbers (DESIGN.md "Backends and machines").
// Semantics of every method: DESIGN.md "Methods".
//
// Memory: pointers are the backend's own. CPU: host memory, K/V float32. CUDA: device memory,
// K/V fp16 (__half), q and out float32, every launch on the stream given to make_layer_attention.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "attention/options.h"

namespace adamas {

enum class Backend { Cpu, Cuda };
const char* backend_name(Backend b);  // "cpu", "cuda"

// One layer's KV cache, head-major [n_kv_heads][capacity][head_dim] (one head's keys contiguous):
// float on the CPU, __half on CUDA.
struct LayerKV {
  const void* k = nullptr;
  const void* v = nullptr;
  int64_t head_stride = 0;  // elements between KV heads (capacity * head_dim)
  int n_kv_heads = 0;
  int head_dim = 0;
};

// Token positions each query head attends to at one decode step (ascending, current included).
struct Selection {
  std::vector<std::vector<int32_t>> heads;
};

// Global-memory bytes each phase must move at one length (inputs read once, outputs written once).
struct PhaseBytes {
  double estimate = 0, select = 0, attend = 0;
  double total() const { return estimate + select + attend; }
};

class LayerAttention {
 public:
  virtual ~LayerAttention() = default;

  const AttentionOptions& options() const { return opts_; }
  // Whether a step at length n is sparse (otherwise estimate and select do nothing and attend is
  // full attention over [0, n)).
  bool sparse(int n) const { return opts_.method != Method::Full && n > opts_.budget; }

  // Positions [pos, pos + n) of kv were written; pos is the length appended so far (0 after a
  // rebuild: append(kv, 0, length) brings the metadata back in step with a cache).
  virtual void append(const LayerKV& kv, int pos, int n) = 0;
  // The dense prefill is over: called before the first decode step that follows it (auto
  // thresholds are fitted here).
  virtual void prefill_done(const LayerKV& kv) = 0;

  // The step at length n, the current token (at n - 1) included. q: [n_heads][D] post-RoPE query.
  virtual void estimate(const float* q, const LayerKV& kv, int n) = 0;
  virtual void select(int n) = 0;
  // Instead of estimate + select: attend over the given lists (one per query head, ascending, each
  // position below n), e.g. another backend's recorded selection.
  virtual void use_selection(const Selection& sel, int n) = 0;
  virtual void attend(float* out, const float* q, const LayerKV& kv, int n) = 0;
  void step(float* out, const float* q, const LayerKV& kv, int n) {
    estimate(q, kv, n);
    select(n);
    attend(out, q, kv, n);
  }

  // Positions each query head attends to at length n, after select() or use_selection()
  // (every position when !sparse(n)). CUDA: synchronises the stream.
  virtual Selection selection(int n) const = 0;
  // mass[h] (host, n_heads floats) = the share of full attention's softmax mass over [0, n) that
  // falls on head h's selection: the recall instrumentation. CUDA: synchronises the stream.
  virtual void selected_mass(float* mass, const float* q, const LayerKV& kv, int n) = 0;

  virtual PhaseBytes bytes(int n) const = 0;

 protected:
  explicit LayerAttention(const AttentionOptions& opts) : opts_(opts) {}
  AttentionOptions opts_;
};

// The layer attention of opts.method on a backend; capacity: the most positions the cache will
// hold (CPU: ignored, its cache grows); stream: the cudaStream_t for Backend::Cuda (nullptr: the
// default stream), ignored on the CPU. Throws InvalidArgument naming what the backend does not
// support (e.g. "CUDA attention: Adamas code bits 3 is not supported (supported: 2)").
std::unique_ptr<LayerAttention> make_layer_attention(Backend backend, const AttentionOptions& opts, int n_heads,
                                                     int n_kv_heads, int head_dim, int capacity,
                                                     void* stream = nullptr);

}  // namespace adamas
