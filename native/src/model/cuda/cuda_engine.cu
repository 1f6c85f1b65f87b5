// Decode step layout: segment 0 = embedding + layer 0 up to its KV write; segment l = layer l-1
// after attention + layer l up to its KV write; segment L = the last layer's FFN, the LM head, the
// argmax (writing the next token to device memory) and the length's advance; layer l's attention
// (its LayerAttention) between segments l and l+1. Every kernel of the step reads the token and
// the sequence length from device memory (state_), the attention layers through
// set_device_length, so the whole step is captured once in a CUDA graph and replayed at every
// position; it is captured again only when the step changes from dense to sparse (the length
// passing the budget), the method or the capacity changes. Steps that record (recall, selections)
// or attend over replayed lists run the same launches without the graph.
#include "model/cuda/cuda_engine.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "common/error.h"

#if ADAMAS_WITH_CUBLAS
#include <cmath>

#include "attention/cuda/layer.h"
#include "attention/cuda/prefill.h"
#include "attention/layer.h"
#include "common/cuda/check.h"
#include "model/cuda/gemm.h"
#include "model/cuda/gemv.h"
#include "model/cuda/kv_cache.h"
#include "model/cuda/logits.h"
#include "model/cuda/ops.h"
#include "model/cuda/rope_table.h"
#include "model/cuda/weights.h"
#include "model/rope.h"
#include "model/synthetic.h"

namespace adamas::cuda {

namespace {

constexpr int kPrefillChunk = 4096;                    // tokens a prefill pass: bounds the activations
constexpr size_t kNllLogitBytes = size_t(256) << 20;   // logits of the ppl rows computed at once
constexpr int kCacheGranule = 256;                      // the cache's capacity is a multiple of this

int round_up(int n, int m) { return (n + m - 1) / m * m; }

DType weight_dtype(const std::string& name) {
  if (name == "f16") return DType::F16;
  if (name == "bf16") return DType::BF16;
  if (name == "f32") return DType::F32;
  throw InvalidArgument("weight_type '" + name + "' is not supported by the CUDA engine (supported: f16, bf16, f32)");
}

// Intermediate tensors of `rows` tokens (one for the decode step, a chunk for the prefill). The
// decode step's products are matrix-vector products (gemv) on fp32 inputs, norms and SwiGLU fused
// in: it uses att and h (fp32), and xn, att_t and gate_up only where gemv does not take the model.
struct Activations {
  int rows = 0;
  bool decode = false;
  DeviceBuffer x;        // fp32 [rows][C]: the residual stream
  DeviceBuffer xn;       // [rows][C] of the weight type: normalised input of a product
  DeviceBuffer qkv;      // fp32 [rows][(H + 2 KV) D]
  DeviceBuffer q;        // [rows][H][D]: fp32 (decode, for LayerAttention; f32 weights) or fp16 (prefill)
  DeviceBuffer att;      // fp32 [H][D]: the decode step's attention output (decode only)
  DeviceBuffer att_t;    // [rows][H D] of the weight type: attention output, input of the O product
  DeviceBuffer gate_up;  // fp32 [rows][2F]
  DeviceBuffer h;        // [rows][F] of the weight type (decode: fp32)
  DeviceBuffer logits;   // fp32 [logit_rows][V]
  int logit_rows = 0;
  // f32 weights' prefill (exact_prefill_attention): each row's sequence length, decode scratch
  DeviceBuffer lens, workspace;

  Activations() = default;
  Activations(const ModelConfig& c, DType t, int n, int n_logit_rows, bool for_decode)
      : rows(n), decode(for_decode), logit_rows(n_logit_rows) {
    const size_t e = dtype_bytes(t), C = c.d_model, qd = size_t(c.n_heads) * c.head_dim;
    const size_t qkv_w = size_t(c.n_heads + 2 * c.n_kv_heads) * c.head_dim, F = c.d_ff, R = size_t(n);
    const std::string what = " for " + std::to_string(n) + " tokens";
    x = DeviceBuffer(R * C * 4, "the residual stream" + what);
    xn = DeviceBuffer(R * C * e, "the normalised activations" + what);
    qkv = DeviceBuffer(R * qkv_w * 4, "the q/k/v activations" + what);
    const bool fp32_q = decode || t == DType::F32;
    q = DeviceBuffer(R * qd * (fp32_q ? 4 : 2), "the queries" + what);
    if (!decode && t == DType::F32) {
      lens = DeviceBuffer(R * sizeof(int), "the prefill's lengths" + what);
      workspace = DeviceBuffer(decode_workspace_bytes(c.n_heads, c.head_dim), "the prefill attention's scratch");
      ADAMAS_CUDA_CHECK(cudaMemset(workspace.get(), 0, workspace.bytes()));  // zero at rest from here on
    }
    if (decode) att = DeviceBuffer(qd * 4, "the attention output");
    att_t = DeviceBuffer(R * qd * e, "the attention output" + what);
    gate_up = DeviceBuffer(R * 2 * F * 4, "the FFN activations" + what);
    h = DeviceBuffer(R * F * (decode ? 4 : e), "the FFN activations" + what);
    logits = DeviceBuffer(size_t(n_logit_rows) * c.vocab_size * 4, "the logits of " + std::to_string(n_logit_rows) + " tokens");
  }
};

// The engine's stream, timing events and pinned staging words; released last (and also when the
// constructor fails after creating them).
struct StreamResources {
  cudaStream_t stream = nullptr;
  cudaEvent_t start = nullptr, stop = nullptr;
  int32_t* pinned = nullptr;  // [3]: token and position to upload, next token downloaded
  StreamResources() {
    ADAMAS_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    ADAMAS_CUDA_CHECK(cudaEventCreate(&start));
    ADAMAS_CUDA_CHECK(cudaEventCreate(&stop));
    ADAMAS_CUDA_CHECK(cudaMallocHost(&pinned, 3 * sizeof(int32_t)));
  }
  ~StreamResources() {
    if (stream) cudaStreamSynchronize(stream);
    if (pinned) cudaFreeHost(pinned);
    if (stop) cudaEventDestroy(stop);
    if (start) cudaEventDestroy(start);
    if (stream) cudaStreamDestroy(stream);
  }
  StreamResources(const StreamResources&) = delete;
  StreamResources& operator=(const StreamResources&) = delete;
};

class CudaEngine final : public Engine {
 public:
  CudaEngine(const std::string& model, const EngineOptions& opts);
  ~CudaEngine() override;

  const ModelConfig& config() const override { return cfg_; }
  const AttentionOptions& attention() const override { return attn_; }
  std::string backend() const override { return "cuda"; }
  std::string device_name() const override { return device_name_; }
  int length() const override { return length_; }

  void set_attention(AttentionOptions opts) override;
  void reserve(int n) override;
  void truncate(int n) override;
  int32_t prefill(const int32_t* tokens, int n, float* last_logits, float* nll) override;
  int32_t decode(int32_t token, float* logits) override;
  void replay_next(std::vector<std::vector<int32_t>> selected) override;
  const std::vector<StepRecord>& records() const override { return records_; }
  void clear_records() override { records_.clear(); }
  double last_decode_ms() const override { return last_ms_; }

 private:
  void use_device() const { ADAMAS_CUDA_CHECK(cudaSetDevice(device_)); }
  void check_tokens(const int32_t* tokens, int n) const;
  void ensure_capacity(int n, bool exact);
  void rebuild_layers();
  void drop_graph();
  void capture_step(int n);
  void use_device_lengths(bool on);

  // The parts of a layer on `rows` tokens of `a`: before attention (norm, QKV product, RoPE, KV
  // write) and after it (O product + residual, norm, gate/up product, SwiGLU, down + residual).
  void attention_inputs(Activations& a, int l, int rows, const int32_t* pos_dev, int pos_offset, DType q_type);
  void attention_outputs(Activations& a, int l, int rows);
  void lm_head(void* xn, const float* x, float* logits, int rows);
  // out[N] = W . x (x normalised first with norm) as the decode step's gemv takes it.
  GemvArgs product(float* out, const void* w, const float* x, int N, int K, const float* norm = nullptr) const {
    GemvArgs g;
    g.out = out, g.w = w, g.w_type = wtype_, g.x = x, g.norm = norm, g.eps = float(cfg_.rms_eps), g.N = N, g.K = K;
    return g;
  }
  void prefill_chunks(const int32_t* dev_tokens, int n, int rows, int logit_rows, bool nll, float scale);
  void exact_prefill_attention(const DeviceKV& kv, int T, float scale);

  void enqueue_segment(int s);
  void attend_layer(int l, int n, StepRecord* rec);
  void run_step(int n, StepRecord* rec);

  int device_ = 0;
  std::string device_name_;
  ModelConfig cfg_;
  DType wtype_ = DType::F16;
  std::unique_ptr<StreamResources> res_;  // first: destroyed after everything that uses the stream
  cudaStream_t stream_ = nullptr;         // res_'s, for short
  cudaEvent_t ev_start_ = nullptr, ev_stop_ = nullptr;
  int32_t* pinned_ = nullptr;

  DeviceWeights w_;
  std::unique_ptr<Rope> rope_;
  std::unique_ptr<RopeTable> rope_table_;
  std::unique_ptr<DeviceKVCache> cache_;
  std::unique_ptr<Gemm> gemm_;

  AttentionOptions attn_;
  std::vector<std::unique_ptr<LayerAttention>> layers_;  // per layer; dense (Full) below skip_layers
  bool layers_stale_ = true;     // the method, the length or the capacity changed since the rebuild
  bool decoded_ = false;         // decode steps since the rebuild (the layers' host lengths lag then)
  bool prefill_pending_ = false;  // LayerAttention::prefill_done not yet called after a prefill
  int length_ = 0;
  std::vector<StepRecord> records_;
  std::vector<std::vector<int32_t>> replay_;  // [layer * H + head] for the next step; empty: select

  Activations step_;     // the decode step's, fixed: the graphs hold its pointers
  Activations chunk_;    // the prefill's, grown as needed
  DeviceBuffer state_;   // int32 [2]: the step's input token and the length with it (position + 1)
  int32_t device_token_ = -1, device_pos_ = -1;  // the token and position state_ is set for (-1: unknown)
  DeviceBuffer tokens_;  // int32: the prompt of a prefill
  DeviceBuffer nll_;     // fp32 [n - 1]

  bool use_graphs_ = true;
  bool gemv_ = false;  // the decode step's products through gemv (every K a multiple of 8)
  cudaGraphExec_t graph_ = nullptr;  // the whole decode step; null: to capture
  bool graph_sparse_ = false;        // whether graph_ is a sparse step
  double last_ms_ = std::numeric_limits<double>::quiet_NaN();
};

CudaEngine::CudaEngine(const std::string& model, const EngineOptions& opts) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    (void)cudaGetLastError();
    throw InvalidArgument("device 'cuda': no CUDA device is visible (check the driver and CUDA_VISIBLE_DEVICES)");
  }
  ADAMAS_CUDA_CHECK(cudaGetDevice(&device_));
  cudaDeviceProp prop{};
  ADAMAS_CUDA_CHECK(cudaGetDeviceProperties(&prop, device_));
  device_name_ = prop.name;
  wtype_ = weight_dtype(opts.weight_type);
  const char* graphs = std::getenv("ADAMAS_CUDA_GRAPHS");  // "0"/"off": plain launches (debugging)
  use_graphs_ = !(graphs && (std::strcmp(graphs, "0") == 0 || std::strcmp(graphs, "off") == 0));

  const bool synthetic = is_synthetic_model(model);
  std::unique_ptr<gguf::File> file;
  if (synthetic) {
    cfg_ = synthetic_config(model);
  } else {
    file = gguf::File::open(model);
    cfg_ = read_model_config(*file);
  }
  const std::string name = synthetic ? model : file->path();
  if (cfg_.head_dim != 64 && cfg_.head_dim != 128)
    throw UnsupportedModel(name + ": head_dim " + std::to_string(cfg_.head_dim) +
                           " is not supported by the CUDA engine (supported: 64, 128)");
  if (cfg_.group_size() > 8)
    throw UnsupportedModel(name + ": " + std::to_string(cfg_.group_size()) +
                           " query heads per KV head are not supported by the CUDA engine (supported: 1 to 8)");
  validate(attn_, cfg_.head_dim, cfg_.n_layers);

  res_ = std::make_unique<StreamResources>();
  stream_ = res_->stream;
  ev_start_ = res_->start;
  ev_stop_ = res_->stop;
  pinned_ = res_->pinned;
  w_ = synthetic ? random_weights(cfg_, wtype_, opts.seed, stream_) : upload_weights(*file, cfg_, wtype_, stream_);
  file.reset();
  rope_ = std::make_unique<Rope>(cfg_.rope, cfg_.head_dim, w_.rope_freqs.empty() ? nullptr : w_.rope_freqs.data());
  rope_table_ = std::make_unique<RopeTable>(*rope_, cfg_.head_dim);
  cache_ = std::make_unique<DeviceKVCache>(cfg_.n_layers, cfg_.n_kv_heads, cfg_.head_dim);
  gemm_ = std::make_unique<Gemm>(stream_);
  step_ = Activations(cfg_, wtype_, 1, 1, true);
  state_ = DeviceBuffer(2 * sizeof(int32_t), "the decode step's token and position");

  const int C = cfg_.d_model, qd = cfg_.n_heads * cfg_.head_dim, F = cfg_.d_ff;
  gemv_ = wtype_ != DType::F32 && C % 8 == 0 && qd % 8 == 0 && F % 8 == 0;
  if (gemv_) return;
  // Else the decode products' cuBLASLt plans now, so that capturing a graph only enqueues work.
  const int qkv = (cfg_.n_heads + 2 * cfg_.n_kv_heads) * cfg_.head_dim;
  gemm_->prepare(DType::F32, wtype_, 1, qkv, C);
  gemm_->prepare(DType::F32, wtype_, 1, C, qd, true);
  gemm_->prepare(DType::F32, wtype_, 1, 2 * F, C);
  gemm_->prepare(DType::F32, wtype_, 1, C, F, true);
  gemm_->prepare(DType::F32, wtype_, 1, cfg_.vocab_size, C);
}

CudaEngine::~CudaEngine() {
  cudaSetDevice(device_);
  if (stream_) cudaStreamSynchronize(stream_);
  drop_graph();
  layers_.clear();
}

void CudaEngine::check_tokens(const int32_t* tokens, int n) const {
  for (int i = 0; i < n; ++i)
    if (tokens[i] < 0 || tokens[i] >= cfg_.vocab_size)
      throw InvalidArgument("token id " + std::to_string(tokens[i]) + " at index " + std::to_string(i) +
                            " is outside the vocabulary [0, " + std::to_string(cfg_.vocab_size) + ")");
}

// ---------------------------------------------------------------------------------------------
// method, cache and graphs

void CudaEngine::set_attention(AttentionOptions opts) {
  use_device();
  validate(opts, cfg_.head_dim, cfg_.n_layers);
  // The backend's own checks (what the CUDA kernels take), on a small instance.
  make_layer_attention(Backend::Cuda, opts, cfg_.n_heads, cfg_.n_kv_heads, cfg_.head_dim,
                       std::max(64, 2 * opts.budget), stream_);
  attn_ = std::move(opts);
  records_.clear();
  replay_.clear();
  layers_stale_ = true;
}

void CudaEngine::reserve(int n) {
  if (n < 0) throw InvalidArgument("cannot reserve " + std::to_string(n) + " tokens");
  use_device();
  ensure_capacity(n, true);
}

void CudaEngine::truncate(int n) {
  if (n < 0 || n > length_)
    throw InvalidArgument("cannot truncate to " + std::to_string(n) + " tokens: the cache holds " +
                          std::to_string(length_));
  length_ = n;
  records_.clear();
  replay_.clear();
  layers_stale_ = true;
  device_pos_ = -1;
}

// Capacity for n positions: exactly (rounded to the granule) when asked, else a quarter more than
// now when that fits, so that a long decode regrows rarely. The memory is checked once for the
// cache and the RoPE table together, before either changes.
void CudaEngine::ensure_capacity(int n, bool exact) {
  const int cur = cache_->capacity();
  if (n <= cur) return;
  const double per_position =
      double(cache_->bytes_per_position()) + double(cfg_.head_dim / 2) * sizeof(float2);  // cache + table
  auto need = [&](int cap) {  // new bytes, with one old layer beside its copy and the old table
    const double layer = double(cache_->bytes_per_position()) / cfg_.n_layers * cap;
    return double(cap - cur) * per_position + (cur > 0 ? layer : 0.0) + double(cur) * (cfg_.head_dim / 2) * sizeof(float2);
  };
  size_t free_bytes = 0, total = 0;
  device_memory(&free_bytes, &total);
  int cap = round_up(n, kCacheGranule);
  const int generous = round_up(std::max(n, cur + cur / 4), kCacheGranule);
  if (!exact && need(generous) * 1.1 < double(free_bytes)) cap = generous;
  if (need(cap) > double(free_bytes))
    throw_out_of_memory("the KV cache for " + std::to_string(cap) + " positions (" + std::to_string(cfg_.n_layers) +
                            " layers x " + std::to_string(cfg_.n_kv_heads) + " KV heads x " +
                            std::to_string(cfg_.head_dim) + ", fp16, with its RoPE table)",
                        size_t(need(cap)));
  drop_graph();  // it holds the cache's and the table's pointers
  rope_table_->grow(cap, stream_);
  cache_->grow(cap, length_, stream_);
  layers_stale_ = true;  // each LayerAttention is sized by the capacity
}

void CudaEngine::rebuild_layers() {
  drop_graph();  // it holds the layers' buffers
  layers_.clear();
  AttentionOptions dense;  // the first skip_layers layers attend to everything
  dense.method = Method::Full;
  const int cap = cache_->capacity();
  for (int l = 0; l < cfg_.n_layers; ++l) {
    layers_.push_back(make_cuda_layer_attention(l < attn_.skip_layers ? dense : attn_, cfg_.n_heads,
                                                cfg_.n_kv_heads, cfg_.head_dim, cap, stream_));
    if (length_ > 0) layers_.back()->append(cache_->layer(l), 0, length_);  // state from the cache, on the device
  }
  prefill_pending_ = length_ > 0;
  layers_stale_ = false;
  decoded_ = false;
}

// Decode steps read the length from state_; a prefill's appends (of any size, one included) take
// their positions from the host.
void CudaEngine::use_device_lengths(bool on) {
  const int* n_dev = on ? state_.as<int32_t>() + 1 : nullptr;
  for (auto& la : layers_) la->set_device_length(n_dev);
}

void CudaEngine::drop_graph() {
  if (graph_) cudaGraphExecDestroy(graph_);
  graph_ = nullptr;
}

// The step at length n (any length with the same sparse(n) replays it).
void CudaEngine::capture_step(int n) {
  drop_graph();
  cudaGraph_t graph = nullptr;
  ADAMAS_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
  try {
    run_step(n, nullptr);
  } catch (...) {
    if (cudaStreamEndCapture(stream_, &graph) == cudaSuccess && graph) cudaGraphDestroy(graph);
    (void)cudaGetLastError();
    layers_stale_ = true;  // the layers' host state saw a step that never ran
    throw;
  }
  ADAMAS_CUDA_CHECK(cudaStreamEndCapture(stream_, &graph));
  const cudaError_t e = cudaGraphInstantiate(&graph_, graph, 0);
  cudaGraphDestroy(graph);
  if (e != cudaSuccess) graph_ = nullptr;
  ADAMAS_CUDA_CHECK(e);
  graph_sparse_ = layers_.back()->sparse(n);
}

// ---------------------------------------------------------------------------------------------
// layer parts

void CudaEngine::attention_inputs(Activations& a, int l, int rows, const int32_t* pos_dev, int pos_offset,
                                  DType q_type) {
  const DeviceLayerWeights& L = w_.layers[l];
  const int C = cfg_.d_model, H = cfg_.n_heads, KV = cfg_.n_kv_heads, D = cfg_.head_dim;
  if (a.decode && gemv_) {
    ADAMAS_CUDA_CHECK(gemv(product(a.qkv.as<float>(), L.wqkv.get(), a.x.as<float>(), (H + 2 * KV) * D, C,
                                   L.attn_norm.as<float>()),
                           stream_));
  } else {
    ADAMAS_CUDA_CHECK(rmsnorm(a.xn.get(), wtype_, a.x.as<float>(), L.attn_norm.as<float>(), rows, C, float(cfg_.rms_eps), stream_));
    gemm_->run(a.qkv.get(), DType::F32, a.xn.get(), L.wqkv.get(), wtype_, rows, (H + 2 * KV) * D, C);
  }
  QkvArgs r;
  r.qkv = a.qkv.as<float>();
  r.bias = L.bqkv ? L.bqkv.as<float>() : nullptr;
  r.rope = rope_table_->get();
  r.pos_dev = pos_dev;
  r.pos_offset = pos_offset;
  r.q = a.q.get();
  r.q_type = q_type;
  r.k_cache = cache_->k(l);
  r.v_cache = cache_->v(l);
  r.head_stride = cache_->head_stride();
  r.T = rows;
  r.H = H;
  r.KV = KV;
  r.D = D;
  ADAMAS_CUDA_CHECK(rope_qkv(r, stream_));
}

void CudaEngine::attention_outputs(Activations& a, int l, int rows) {
  const DeviceLayerWeights& L = w_.layers[l];
  const int C = cfg_.d_model, qd = cfg_.n_heads * cfg_.head_dim, F = cfg_.d_ff;
  if (a.decode && gemv_) {
    float* x = a.x.as<float>();
    GemvArgs o = product(x, L.wo.get(), a.att.as<float>(), C, qd);
    o.accumulate = true;
    ADAMAS_CUDA_CHECK(gemv(o, stream_));
    GemvArgs gate_up = product(a.h.as<float>(), L.w_gate_up.get(), x, 2 * F, C, L.ffn_norm.as<float>());
    gate_up.swiglu = true;
    ADAMAS_CUDA_CHECK(gemv(gate_up, stream_));
    GemvArgs down = product(x, L.w_down.get(), a.h.as<float>(), C, F);
    down.accumulate = true;
    ADAMAS_CUDA_CHECK(gemv(down, stream_));
    return;
  }
  if (a.decode) ADAMAS_CUDA_CHECK(convert_from_f32(a.att_t.get(), wtype_, a.att.as<float>(), qd, stream_));
  gemm_->run(a.x.get(), DType::F32, a.att_t.get(), L.wo.get(), wtype_, rows, C, qd, true);
  ADAMAS_CUDA_CHECK(rmsnorm(a.xn.get(), wtype_, a.x.as<float>(), L.ffn_norm.as<float>(), rows, C, float(cfg_.rms_eps), stream_));
  gemm_->run(a.gate_up.get(), DType::F32, a.xn.get(), L.w_gate_up.get(), wtype_, rows, 2 * F, C);
  ADAMAS_CUDA_CHECK(swiglu(a.h.get(), wtype_, a.gate_up.as<float>(), rows, F, stream_));
  gemm_->run(a.x.get(), DType::F32, a.h.get(), L.w_down.get(), wtype_, rows, C, F, true);
}

// logits [rows][V] of the residual rows x (normalised into xn first).
void CudaEngine::lm_head(void* xn, const float* x, float* logits, int rows) {
  if (rows == 1 && gemv_ && gemv_supports(w_.lm_head(), x, cfg_.d_model)) {
    ADAMAS_CUDA_CHECK(gemv(product(logits, w_.lm_head(), x, cfg_.vocab_size, cfg_.d_model, w_.output_norm.as<float>()),
                           stream_));
    return;
  }
  ADAMAS_CUDA_CHECK(rmsnorm(xn, wtype_, x, w_.output_norm.as<float>(), rows, cfg_.d_model, float(cfg_.rms_eps), stream_));
  gemm_->run(logits, DType::F32, xn, w_.lm_head(), wtype_, rows, cfg_.vocab_size, cfg_.d_model);
}

// ---------------------------------------------------------------------------------------------
// prefill

// The chunks of a prefill of n tokens (on the device at dev_tokens) from position length_ on.
void CudaEngine::prefill_chunks(const int32_t* dev_tokens, int n, int rows, int logit_rows, bool nll, float scale) {
  const int start = length_, C = cfg_.d_model, V = cfg_.vocab_size, H = cfg_.n_heads;
  // f32 weights are for agreement with the CPU: there the prefill attention keeps the queries in
  // fp32 and runs the decode kernel (logits and P V as exact as fp32), a row per sequence
  const bool exact = wtype_ == DType::F32;
  for (int c0 = 0; c0 < n; c0 += rows) {
    const int T = std::min(rows, n - c0), pos0 = start + c0;
    ADAMAS_CUDA_CHECK(embed_tokens(chunk_.x.as<float>(), w_.token_embd.get(), wtype_, dev_tokens + c0, T, C, stream_));
    if (exact) {  // row t sees positions [0, pos0 + t]
      std::vector<int> lens(T);
      for (int t = 0; t < T; ++t) lens[t] = pos0 + t + 1;
      ADAMAS_CUDA_CHECK(cudaMemcpy(chunk_.lens.get(), lens.data(), T * sizeof(int), cudaMemcpyHostToDevice));
    }
    for (int l = 0; l < cfg_.n_layers; ++l) {
      attention_inputs(chunk_, l, T, nullptr, pos0, exact ? DType::F32 : DType::F16);
      layers_[l]->append(cache_->layer(l), pos0, T);
      const DeviceKV kv = cache_->device(l);
      const __half* q = chunk_.q.as<__half>();
      void* out = chunk_.att_t.get();
      if (exact)
        exact_prefill_attention(kv, T, scale);
      else
        ADAMAS_CUDA_CHECK(wtype_ == DType::BF16 ? prefill_attention(static_cast<__nv_bfloat16*>(out), q, kv, H, T, pos0, scale, stream_)
                                                : prefill_attention(static_cast<__half*>(out), q, kv, H, T, pos0, scale, stream_));
      attention_outputs(chunk_, l, T);
    }
    length_ = pos0 + T;
    // ppl: log-likelihood of each next token of the prompt, logit_rows rows at a time
    for (int r0 = 0; nll && r0 < T; r0 += logit_rows) {
      const int i0 = c0 + r0, m = std::min({logit_rows, T - r0, n - 1 - i0});
      if (m <= 0) break;
      lm_head(chunk_.xn.get(), chunk_.x.as<float>() + size_t(r0) * C, chunk_.logits.as<float>(), m);
      ADAMAS_CUDA_CHECK(nll_rows(nll_.as<float>() + i0, chunk_.logits.as<float>(), dev_tokens + i0 + 1, m, V, stream_));
    }
    if (c0 + T == n) {  // the prompt's last token: its logits and the greedy next token
      lm_head(step_.xn.get(), chunk_.x.as<float>() + size_t(T - 1) * C, step_.logits.as<float>(), 1);
      ADAMAS_CUDA_CHECK(argmax(state_.as<int32_t>(), step_.logits.as<float>(), V, stream_));
    }
  }
}

// The chunk's T rows as T sequences of one token over the same cache (kv_stride 0), their lengths
// in chunk_.lens, kMaxDecodeBatch rows a launch.
void CudaEngine::exact_prefill_attention(const DeviceKV& kv, int T, float scale) {
  const int64_t qd = int64_t(cfg_.n_heads) * cfg_.head_dim;
  const float* q = chunk_.q.as<float>();
  float* out = chunk_.att_t.as<float>();
  for (int t0 = 0; t0 < T; t0 += kMaxDecodeBatch) {
    const SeqLengths len{chunk_.lens.as<int>() + t0, 0};
    const DecodeBatch rows{std::min(kMaxDecodeBatch, T - t0), qd, 0};
    ADAMAS_CUDA_CHECK(decode_attention(out + t0 * qd, q + t0 * qd, kv, cfg_.n_heads, len, rows, scale,
                                       chunk_.workspace.get(), stream_));
  }
}

int32_t CudaEngine::prefill(const int32_t* tokens, int n, float* last_logits, float* nll) {
  if (n <= 0) throw InvalidArgument("prefill needs at least one token");
  check_tokens(tokens, n);
  use_device();
  const int start = length_, V = cfg_.vocab_size;
  ensure_capacity(start + n + 1, false);  // and room for the decode step that usually follows
  if (decoded_) layers_stale_ = true;  // graph replays did not advance the layers' host lengths
  if (layers_stale_) rebuild_layers();
  use_device_lengths(false);

  if (tokens_.bytes() < size_t(n) * sizeof(int32_t)) tokens_ = DeviceBuffer(size_t(n) * sizeof(int32_t), "the prompt's tokens");
  ADAMAS_CUDA_CHECK(cudaMemcpyAsync(tokens_.get(), tokens, size_t(n) * sizeof(int32_t), cudaMemcpyHostToDevice, stream_));
  const int rows = std::min(n, kPrefillChunk);
  const int logit_rows = nll ? int(std::clamp<size_t>(kNllLogitBytes / (size_t(V) * 4), 1, size_t(rows))) : 0;
  if (chunk_.rows < rows || chunk_.logit_rows < logit_rows) {
    chunk_ = Activations();  // the old buffers go first
    chunk_ = Activations(cfg_, wtype_, rows, logit_rows, false);
  }
  if (nll && n > 1 && nll_.bytes() < size_t(n - 1) * sizeof(float))
    nll_ = DeviceBuffer(size_t(n - 1) * sizeof(float), "the prompt's log-likelihoods");
  const float scale = 1.0f / std::sqrt(float(cfg_.head_dim));
  const int32_t* dev_tokens = tokens_.as<int32_t>();
  try {
    prefill_chunks(dev_tokens, n, rows, logit_rows, nll != nullptr, scale);
  } catch (...) {
    length_ = start;  // a failed prefill leaves the cache as it was; the method's state is rebuilt
    layers_stale_ = true;
    throw;
  }
  ADAMAS_CUDA_CHECK(cudaMemcpyAsync(&pinned_[2], state_.as<int32_t>(), sizeof(int32_t), cudaMemcpyDeviceToHost, stream_));
  if (last_logits)
    ADAMAS_CUDA_CHECK(cudaMemcpyAsync(last_logits, step_.logits.get(), size_t(V) * 4, cudaMemcpyDeviceToHost, stream_));
  if (nll && n > 1)
    ADAMAS_CUDA_CHECK(cudaMemcpyAsync(nll, nll_.get(), size_t(n - 1) * 4, cudaMemcpyDeviceToHost, stream_));
  ADAMAS_CUDA_CHECK(cudaStreamSynchronize(stream_));
  prefill_pending_ = true;
  device_token_ = pinned_[2];
  device_pos_ = -1;
  return pinned_[2];
}

// ---------------------------------------------------------------------------------------------
// decode

void CudaEngine::enqueue_segment(int s) {
  const int L = cfg_.n_layers, C = cfg_.d_model;
  int32_t* token = state_.as<int32_t>();
  int32_t* length = token + 1;  // the step's token is at length - 1
  if (s == 0)
    ADAMAS_CUDA_CHECK(embed_tokens(step_.x.as<float>(), w_.token_embd.get(), wtype_, token, 1, C, stream_));
  else
    attention_outputs(step_, s - 1, 1);
  if (s < L) {
    attention_inputs(step_, s, 1, length, -1, DType::F32);
  } else {
    lm_head(step_.xn.get(), step_.x.as<float>(), step_.logits.as<float>(), 1);
    ADAMAS_CUDA_CHECK(argmax(token, step_.logits.as<float>(), cfg_.vocab_size, stream_));
    ADAMAS_CUDA_CHECK(advance_position(length, stream_));
  }
}

// Layer l's attention at length n (the new token at n - 1): through its LayerAttention, over the
// replayed lists when replay_next gave some, recording recall and selections when asked.
void CudaEngine::attend_layer(int l, int n, StepRecord* rec) {
  LayerAttention& la = *layers_[l];
  const LayerKV kv = cache_->layer(l);
  const float* q = step_.q.as<float>();
  float* out = step_.att.as<float>();
  const int H = cfg_.n_heads;
  la.append(kv, n - 1, 1);
  const bool sparse = l >= attn_.skip_layers && la.sparse(n);
  if (sparse && !replay_.empty()) {
    Selection sel;
    sel.heads.assign(replay_.begin() + size_t(l) * H, replay_.begin() + size_t(l + 1) * H);
    la.use_selection(sel, n);
    la.attend(out, q, kv, n);
  } else {
    la.step(out, q, kv, n);
  }
  if (!rec || !sparse) return;
  if (attn_.measure_recall) la.selected_mass(&rec->recall[size_t(l) * H], q, kv, n);
  if (attn_.record_selection) {
    Selection sel = la.selection(n);
    for (int h = 0; h < H; ++h) rec->selected[size_t(l) * H + h] = std::move(sel.heads[h]);
  }
}

void CudaEngine::run_step(int n, StepRecord* rec) {
  for (int s = 0; s <= cfg_.n_layers; ++s) {
    enqueue_segment(s);
    if (s < cfg_.n_layers) attend_layer(s, n, rec);
  }
}

int32_t CudaEngine::decode(int32_t token, float* logits) {
  check_tokens(&token, 1);
  use_device();
  const int pos = length_, L = cfg_.n_layers, H = cfg_.n_heads;
  ensure_capacity(pos + 1, false);
  if (layers_stale_) rebuild_layers();
  if (prefill_pending_) {
    for (int l = 0; l < L; ++l) layers_[l]->prefill_done(cache_->layer(l));
    prefill_pending_ = false;
  }
  use_device_lengths(true);

  StepRecord* rec = nullptr;
  if (attn_.measure_recall || attn_.record_selection) {
    records_.push_back(StepRecord{pos, {}, {}});
    rec = &records_.back();
    if (attn_.measure_recall) rec->recall.assign(size_t(L) * H, std::numeric_limits<float>::quiet_NaN());
    if (attn_.record_selection) rec->selected.assign(size_t(L) * H, {});
  }

  const int n = pos + 1;
  const bool whole = use_graphs_ && !rec && replay_.empty();
  if (whole && (!graph_ || graph_sparse_ != layers_.back()->sparse(n))) capture_step(n);
  ADAMAS_CUDA_CHECK(cudaEventRecord(ev_start_, stream_));
  if (device_token_ != token || device_pos_ != pos) {
    pinned_[0] = token;
    pinned_[1] = n;
    ADAMAS_CUDA_CHECK(cudaMemcpyAsync(state_.get(), pinned_, 2 * sizeof(int32_t), cudaMemcpyHostToDevice, stream_));
  }
  device_token_ = device_pos_ = -1;  // unknown until the step has run
  decoded_ = true;
  try {
    if (whole)
      ADAMAS_CUDA_CHECK(cudaGraphLaunch(graph_, stream_));
    else
      run_step(n, rec);
  } catch (...) {
    layers_stale_ = true;  // some layers may have appended the new position: rebuild from the cache
    throw;
  }
  ADAMAS_CUDA_CHECK(cudaEventRecord(ev_stop_, stream_));
  ADAMAS_CUDA_CHECK(cudaMemcpyAsync(&pinned_[2], state_.as<int32_t>(), sizeof(int32_t), cudaMemcpyDeviceToHost, stream_));
  if (logits)
    ADAMAS_CUDA_CHECK(cudaMemcpyAsync(logits, step_.logits.get(), size_t(cfg_.vocab_size) * 4, cudaMemcpyDeviceToHost, stream_));
  ADAMAS_CUDA_CHECK(cudaStreamSynchronize(stream_));
  float ms = 0;
  ADAMAS_CUDA_CHECK(cudaEventElapsedTime(&ms, ev_start_, ev_stop_));
  last_ms_ = ms;
  length_ = pos + 1;
  device_token_ = pinned_[2];
  device_pos_ = pos + 1;
  replay_.clear();
  return pinned_[2];
}

void CudaEngine::replay_next(std::vector<std::vector<int32_t>> selected) {
  const size_t want = size_t(cfg_.n_layers) * cfg_.n_heads;
  if (selected.size() != want)
    throw InvalidArgument("replay_next: " + std::to_string(selected.size()) + " lists given, expected n_layers * n_heads = " +
                          std::to_string(want));
  replay_ = std::move(selected);
}

}  // namespace

std::unique_ptr<Engine> make_cuda_engine(const std::string& model, const EngineOptions& opts) {
  return std::make_unique<CudaEngine>(model, opts);
}

}  // namespace adamas::cuda

#else  // no cuBLAS in this build

namespace adamas::cuda {

std::unique_ptr<Engine> make_cuda_engine(const std::string&, const EngineOptions&) {
  throw InvalidArgument(
      "device 'cuda': this build's CUDA backend has no cuBLAS, which the CUDA engine needs for its matrix products "
      "(install the toolkit's cuBLAS, or set ADAMAS_CUBLAS_ROOT, and rebuild)");
}

}  // namespace adamas::cuda

#endif
