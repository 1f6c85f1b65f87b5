#include "model/cpu_engine.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "attention/cpu/attend.h"
#include "common/error.h"
#include "common/host.h"
#include "gguf/gguf.h"
#include "model/synthetic.h"
#include "tensor/ops_cpu.h"

namespace adamas {

namespace {

constexpr int kPrefillChunk = 256;  // tokens per prefill pass: bounds the activation memory

void add_into(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

}  // namespace

std::unique_ptr<Engine> CpuEngine::open(const std::string& model, const EngineOptions& opts) {
  if (opts.threads < 0) throw InvalidArgument("threads must be >= 0 (got " + std::to_string(opts.threads) + ")");
  if (is_synthetic_model(model)) {
    ModelConfig cfg = synthetic_config(model);
    check_fits_in_memory(model + " on the CPU (float32 weights)", synthetic_weight_bytes(cfg),
                         available_memory_bytes(), "use --device cuda or a smaller preset");
    ModelWeights w = synthetic_weights(cfg, opts.seed);
    return std::make_unique<CpuEngine>(std::move(cfg), std::move(w), opts);
  }
  const std::unique_ptr<gguf::File> file = gguf::File::open(model);
  ModelConfig cfg = read_model_config(*file);
  ModelWeights w = load_weights(*file, cfg);
  return std::make_unique<CpuEngine>(std::move(cfg), std::move(w), opts);  // the mapping is dropped here
}

CpuEngine::CpuEngine(ModelConfig cfg, ModelWeights weights, const EngineOptions& opts)
    : cfg_(std::move(cfg)),
      w_(std::move(weights)),
      rope_(cfg_.rope, cfg_.head_dim, w_.rope_freqs.empty() ? nullptr : w_.rope_freqs.data()),
      cache_(cfg_.n_layers, cfg_.n_kv_heads, cfg_.head_dim, opts.kv_type == "f16"),
      logits_(size_t(cfg_.vocab_size)),
      threads_(opts.threads) {
  validate(attn_, cfg_.head_dim, cfg_.n_layers);
}

std::string CpuEngine::device_name() const { return cpu_model_name(); }

// set_attention and truncate only mark the method's state stale: the next prefill or decode
// rebuilds it once, on its computing thread, however many changes came before.
void CpuEngine::set_attention(AttentionOptions opts) {
  validate(opts, cfg_.head_dim, cfg_.n_layers);
  attn_ = std::move(opts);
  records_.clear();
  replay_.clear();
  layers_stale_ = true;
}

void CpuEngine::reserve(int n) {
  if (n < 0) throw InvalidArgument("cannot reserve " + std::to_string(n) + " tokens");
  cache_.reserve(n);
}

void CpuEngine::truncate(int n) {
  if (n < 0 || n > length())
    throw InvalidArgument("cannot truncate to " + std::to_string(n) + " tokens: the cache holds " +
                          std::to_string(length()));
  cache_.set_length(n);
  records_.clear();
  replay_.clear();
  layers_stale_ = true;
}

void CpuEngine::rebuild_layers() {
  layers_stale_ = false;
  layers_.clear();
  const int n = length();
  for (int l = 0; l < cfg_.n_layers; ++l) {
    const AttentionOptions opts = l < attn_.skip_layers ? AttentionOptions{} : attn_;
    layers_.push_back(make_layer_attention(Backend::Cpu, opts, cfg_.n_heads, cfg_.n_kv_heads, cfg_.head_dim, 0));
    if (n > 0) layers_[l]->append(layer_kv(l), 0, n);
  }
  prefill_pending_ = n > 0;
}

LayerKV CpuEngine::layer_kv(int l) const {
  const KVView v = cache_.view(l, 0);
  return LayerKV{v.k, v.v, v.head_stride, v.n_kv_heads, v.head_dim};
}

// OpenMP's thread count is a setting of the calling thread, and the addon calls from whichever
// thread of its pool is free: set it at the start of every computation.
void CpuEngine::use_threads() const {
  if (threads_ > 0) omp_set_num_threads(threads_);
}

void CpuEngine::check_tokens(const int32_t* tokens, int n) const {
  for (int i = 0; i < n; ++i)
    if (tokens[i] < 0 || tokens[i] >= cfg_.vocab_size)
      throw InvalidArgument("token id " + std::to_string(tokens[i]) + " at index " + std::to_string(i) +
                            " is outside the vocabulary [0, " + std::to_string(cfg_.vocab_size) + ")");
}

void CpuEngine::lm_head(const float* x, int T, float* logits) {
  std::vector<float> xn(size_t(T) * cfg_.d_model);
  cpu::rmsnorm(xn.data(), x, w_.output_norm.data(), T, cfg_.d_model, float(cfg_.rms_eps));
  cpu::matmul(logits, xn.data(), w_.lm_head(), nullptr, T, cfg_.d_model, cfg_.vocab_size);
}

// ---------------------------------------------------------------------------------------------
// prefill

int32_t CpuEngine::prefill(const int32_t* tokens, int n, float* last_logits, float* nll) {
  if (n <= 0) throw InvalidArgument("prefill needs at least one token");
  check_tokens(tokens, n);
  use_threads();
  if (layers_stale_) rebuild_layers();
  replay_.clear();  // it was for a decode at the length before this prefill
  const int dm = cfg_.d_model, D = cfg_.head_dim, H = cfg_.n_heads, KV = cfg_.n_kv_heads;
  const int qd = H * D, kvd = KV * D, ff = cfg_.d_ff, V = cfg_.vocab_size, half = D / 2;
  const float scale = 1.0f / std::sqrt(float(D));
  const int start = length();
  cache_.reserve(start + n);

  const int C = std::min(n, kPrefillChunk);
  std::vector<float> x(size_t(C) * dm), xn(size_t(C) * dm), q(size_t(C) * qd), k(size_t(C) * kvd),
      v(size_t(C) * kvd), att(size_t(C) * qd), gate(size_t(C) * ff), up(size_t(C) * ff), cs(size_t(C) * half),
      sn(size_t(C) * half);
  std::vector<float> logits;

  for (int c0 = 0; c0 < n; c0 += C) {
    const int T = std::min(C, n - c0), pos0 = start + c0;
    for (int t = 0; t < T; ++t) {
      std::copy_n(&w_.token_embd[size_t(tokens[c0 + t]) * dm], dm, &x[size_t(t) * dm]);
      rope_.angles(pos0 + t, &cs[size_t(t) * half], &sn[size_t(t) * half]);
    }
    for (int l = 0; l < cfg_.n_layers; ++l) {
      const LayerWeights& L = w_.layers[l];
      cpu::rmsnorm(xn.data(), x.data(), L.attn_norm.data(), T, dm, float(cfg_.rms_eps));
      cpu::matmul(q.data(), xn.data(), L.wq.data(), L.bq.empty() ? nullptr : L.bq.data(), T, dm, qd);
      cpu::matmul(k.data(), xn.data(), L.wk.data(), L.bk.empty() ? nullptr : L.bk.data(), T, dm, kvd);
      cpu::matmul(v.data(), xn.data(), L.wv.data(), L.bv.empty() ? nullptr : L.bv.data(), T, dm, kvd);
      for (int t = 0; t < T; ++t) {
        Rope::rotate(&q[size_t(t) * qd], H, D, &cs[size_t(t) * half], &sn[size_t(t) * half]);
        Rope::rotate(&k[size_t(t) * kvd], KV, D, &cs[size_t(t) * half], &sn[size_t(t) * half]);
        cache_.write(l, pos0 + t, &k[size_t(t) * kvd], &v[size_t(t) * kvd]);
      }
      const KVView kv = cache_.view(l, pos0 + T);
      layers_[l]->append(layer_kv(l), pos0, T);
      cpu::attend_prefill(att.data(), q.data(), kv, H, T, pos0, scale);
      cpu::matmul(xn.data(), att.data(), L.wo.data(), nullptr, T, qd, dm);
      add_into(x.data(), xn.data(), int64_t(T) * dm);

      cpu::rmsnorm(xn.data(), x.data(), L.ffn_norm.data(), T, dm, float(cfg_.rms_eps));
      cpu::matmul(gate.data(), xn.data(), L.w_gate.data(), nullptr, T, dm, ff);
      cpu::matmul(up.data(), xn.data(), L.w_up.data(), nullptr, T, dm, ff);
      cpu::swiglu(gate.data(), gate.data(), up.data(), int64_t(T) * ff);
      cpu::matmul(xn.data(), gate.data(), L.w_down.data(), nullptr, T, ff, dm);
      add_into(x.data(), xn.data(), int64_t(T) * dm);
    }
    cache_.set_length(pos0 + T);

    const bool last_chunk = c0 + T == n;
    if (nll || last_chunk) {
      const int rows = nll ? T : 1;
      logits.resize(size_t(rows) * V);
      lm_head(&x[size_t(T - rows) * dm], rows, logits.data());
      if (last_chunk) std::copy_n(&logits[size_t(rows - 1) * V], V, logits_.data());
      for (int t = 0; nll && t < T && c0 + t + 1 < n; ++t) {
        float* row = &logits[size_t(t) * V];
        const float target = row[tokens[c0 + t + 1]];
        nll[c0 + t] = float(cpu::softmax(row, V) - target);
      }
    }
  }
  prefill_pending_ = true;
  if (last_logits) std::copy(logits_.begin(), logits_.end(), last_logits);
  return cpu::argmax(logits_.data(), V);
}

// ---------------------------------------------------------------------------------------------
// decode

void CpuEngine::attention_decode_layer(int l, const float* q, float* out, StepRecord* rec) {
  LayerAttention& layer = *layers_[l];
  const LayerKV kv = layer_kv(l);
  const int H = cfg_.n_heads, n = length() + 1;
  if (!replay_.empty() && layer.sparse(n)) {
    Selection given;
    given.heads.assign(replay_.begin() + size_t(l) * H, replay_.begin() + size_t(l + 1) * H);
    layer.use_selection(given, n);
    layer.attend(out, q, kv, n);
  } else {
    layer.step(out, q, kv, n);
  }
  if (!rec || !layer.sparse(n)) return;
  if (attn_.measure_recall) layer.selected_mass(&rec->recall[size_t(l) * H], q, kv, n);
  if (attn_.record_selection) {
    Selection sel = layer.selection(n);
    for (int h = 0; h < H; ++h) rec->selected[size_t(l) * H + h] = std::move(sel.heads[h]);
  }
}

int32_t CpuEngine::decode(int32_t token, float* logits) {
  check_tokens(&token, 1);
  use_threads();
  if (layers_stale_) rebuild_layers();
  const int dm = cfg_.d_model, D = cfg_.head_dim, H = cfg_.n_heads, KV = cfg_.n_kv_heads;
  const int qd = H * D, kvd = KV * D, ff = cfg_.d_ff, half = D / 2;
  const int pos = length();
  cache_.reserve(pos + 1);
  if (prefill_pending_) {
    for (int l = 0; l < cfg_.n_layers; ++l)
      layers_[l]->prefill_done(layer_kv(l));
    prefill_pending_ = false;
  }

  StepRecord* rec = nullptr;
  if (attn_.measure_recall || attn_.record_selection) {
    records_.push_back(StepRecord{pos, {}, {}});
    rec = &records_.back();
    if (attn_.measure_recall) rec->recall.assign(size_t(cfg_.n_layers) * H, std::numeric_limits<float>::quiet_NaN());
    if (attn_.record_selection) rec->selected.assign(size_t(cfg_.n_layers) * H, {});
  }

  std::vector<float> x(w_.token_embd.begin() + size_t(token) * dm, w_.token_embd.begin() + size_t(token + 1) * dm);
  std::vector<float> xn(dm), q(qd), k(kvd), v(kvd), att(qd), gate(ff), up(ff), cs(half), sn(half);
  rope_.angles(pos, cs.data(), sn.data());
  for (int l = 0; l < cfg_.n_layers; ++l) {
    const LayerWeights& L = w_.layers[l];
    cpu::rmsnorm(xn.data(), x.data(), L.attn_norm.data(), 1, dm, float(cfg_.rms_eps));
    cpu::matmul(q.data(), xn.data(), L.wq.data(), L.bq.empty() ? nullptr : L.bq.data(), 1, dm, qd);
    cpu::matmul(k.data(), xn.data(), L.wk.data(), L.bk.empty() ? nullptr : L.bk.data(), 1, dm, kvd);
    cpu::matmul(v.data(), xn.data(), L.wv.data(), L.bv.empty() ? nullptr : L.bv.data(), 1, dm, kvd);
    Rope::rotate(q.data(), H, D, cs.data(), sn.data());
    Rope::rotate(k.data(), KV, D, cs.data(), sn.data());
    cache_.write(l, pos, k.data(), v.data());
    layers_[l]->append(layer_kv(l), pos, 1);
    attention_decode_layer(l, q.data(), att.data(), rec);
    cpu::matmul(xn.data(), att.data(), L.wo.data(), nullptr, 1, qd, dm);
    add_into(x.data(), xn.data(), dm);

    cpu::rmsnorm(xn.data(), x.data(), L.ffn_norm.data(), 1, dm, float(cfg_.rms_eps));
    cpu::matmul(gate.data(), xn.data(), L.w_gate.data(), nullptr, 1, dm, ff);
    cpu::matmul(up.data(), xn.data(), L.w_up.data(), nullptr, 1, dm, ff);
    cpu::swiglu(gate.data(), gate.data(), up.data(), ff);
    cpu::matmul(xn.data(), gate.data(), L.w_down.data(), nullptr, 1, ff, dm);
    add_into(x.data(), xn.data(), dm);
  }
  cache_.set_length(pos + 1);
  replay_.clear();
  lm_head(x.data(), 1, logits_.data());
  if (logits) std::copy(logits_.begin(), logits_.end(), logits);
  return cpu::argmax(logits_.data(), cfg_.vocab_size);
}

// Checked here, before the step starts, so that a bad list cannot leave the cache and the layers'
// metadata out of step half-way through a decode.
void CpuEngine::replay_next(std::vector<std::vector<int32_t>> selected) {
  const int L = cfg_.n_layers, H = cfg_.n_heads, n = length() + 1;
  if (selected.size() != size_t(L) * H)
    throw InvalidArgument("replay_next: " + std::to_string(selected.size()) + " lists, expected n_layers x n_heads = " +
                          std::to_string(L) + " x " + std::to_string(H));
  const bool sparse = attn_.method != Method::Full && n > attn_.budget;
  for (int l = attn_.skip_layers; sparse && l < L; ++l)
    for (int h = 0; h < H; ++h) {
      const std::vector<int32_t>& s = selected[size_t(l) * H + h];
      const std::string where = "replay_next: layer " + std::to_string(l) + ", head " + std::to_string(h);
      if (s.empty()) throw InvalidArgument(where + ": the list is empty at a sparse step");
      for (size_t i = 0; i < s.size(); ++i)
        if (s[i] < 0 || s[i] >= n || (i > 0 && s[i] <= s[i - 1]))
          throw InvalidArgument(where + ": position " + std::to_string(s[i]) + " at index " + std::to_string(i) +
                                "; positions must ascend within [0, " + std::to_string(n) + ")");
    }
  replay_ = std::move(selected);
}

}  // namespace adamas
