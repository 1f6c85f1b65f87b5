// The CPU LayerAttention (attention/layer.h): float32 K/V in host memory, the reference of every
// method. Layer holds what the methods share: the length appended so far, the position lists of
// the step (one per query head), exact attention over them (cpu/attend.h), the recall
// instrumentation and the attention phase's bytes. Each method adds its metadata, estimate and
// select (streaming.cpp, quest.cpp, adamas.cpp, oracle.cpp; semantics at the top of each).
#pragma once
#include <memory>

#include "attention/layer.h"
#include "tensor/kv_cache.h"

namespace adamas::cpu {

class Layer : public LayerAttention {
 public:
  void append(const LayerKV& kv, int pos, int n) final;
  void prefill_done(const LayerKV& kv) final;
  void estimate(const float* q, const LayerKV& kv, int n) final;
  void select(int n) final;
  // A dense step (!sparse(n)) ignores the lists: it attends to everything.
  void use_selection(const Selection& sel, int n) final;
  void attend(float* out, const float* q, const LayerKV& kv, int n) final;
  Selection selection(int n) const final;
  void selected_mass(float* mass, const float* q, const LayerKV& kv, int n) final;
  PhaseBytes bytes(int n) const final;

 protected:
  Layer(const AttentionOptions& opts, int n_heads, int n_kv_heads, int head_dim);

  // The method's part. on_append and on_prefill_done see every call; the rest only sparse steps,
  // with kv holding the n positions of the step.
  virtual void on_append(const KVView& /*kv*/, int /*pos*/, int /*n*/) {}
  virtual void on_prefill_done(const KVView& /*kv*/) {}
  // Before the estimate and before the attention of every sparse step (a step over given lists
  // has no estimate), so it must do nothing the second time at one length.
  virtual void on_sparse_step(const KVView& /*kv*/) {}
  // Whether select() needs an estimate() at the same length first.
  virtual bool has_estimate() const { return false; }
  virtual void estimate_sparse(const float* /*q*/, const KVView& /*kv*/) {}
  // Fills sel.heads[h] (ascending, the current position n - 1 last) for every query head. Full
  // attention never has a sparse step, so it alone keeps this default, which throws.
  virtual void select_sparse(int n, Selection& sel);
  // Bytes of the method's phases (float32 data; inputs read once, outputs written once).
  virtual double estimate_bytes(int /*n*/) const { return 0; }
  virtual double select_bytes(int /*n*/) const { return 0; }
  // Positions a list holds at a sparse step of length n, and the lists attention reads: one per
  // query head, or one per KV head where a GQA group shares it (its K/V rows are read once).
  virtual int list_length(int /*n*/) const { return opts_.budget; }
  virtual int distinct_lists() const { return H_; }

  const int H_, KV_, D_, group_;
  const float scale_;

 private:
  KVView view(const LayerKV& kv, int n) const;
  void check_length(const char* phase, int n) const;

  int length_ = 0;        // positions appended so far
  int estimated_n_ = -1;  // the length of the last estimate
  int listed_n_ = -1;     // the length the lists in sel_ are for
  Selection sel_;
};

// The CPU layer attention of opts.method (opts validated: attention/options.h). Throws
// InvalidArgument for a layout that is not one (n_heads not a multiple of n_kv_heads, ...).
std::unique_ptr<LayerAttention> make_layer_attention(const AttentionOptions& opts, int n_heads, int n_kv_heads,
                                                     int head_dim);

// The methods (each in its file).
std::unique_ptr<LayerAttention> make_full_layer(const AttentionOptions& opts, int n_heads, int n_kv_heads,
                                                int head_dim);
std::unique_ptr<LayerAttention> make_streaming_layer(const AttentionOptions& opts, int n_heads, int n_kv_heads,
                                                     int head_dim);
std::unique_ptr<LayerAttention> make_quest_layer(const AttentionOptions& opts, int n_heads, int n_kv_heads,
                                                 int head_dim);
std::unique_ptr<LayerAttention> make_adamas_layer(const AttentionOptions& opts, int n_heads, int n_kv_heads,
                                                  int head_dim);
std::unique_ptr<LayerAttention> make_oracle_layer(const AttentionOptions& opts, int n_heads, int n_kv_heads,
                                                  int head_dim);

}  // namespace adamas::cpu
