#include <algorithm>
#include <cmath>
#include <string>

#include "common/cuda/check.h"
#include "common/cuda/hash_normal.cuh"
#include "common/error.h"
#include "model/cuda/device_math.cuh"
#include "model/cuda/ops.h"
#include "model/cuda/weights.h"
#include "model/weights.h"

namespace adamas::cuda {

namespace {

constexpr int64_t kStagingFloats = int64_t(16) << 20;  // 64 MiB of fp32 on the device per upload step

// Where a tensor of weight_specs goes: a buffer, the element offset in it, the element type.
struct Slot {
  DeviceBuffer* buffer = nullptr;  // null: kept on the host (rope_freqs)
  int64_t offset = 0;
  DType type = DType::F32;
  bool matrix = false;  // of the weight type (else an fp32 norm or bias)
};

int64_t elements(const WeightSpec& s) {
  int64_t n = 1;
  for (uint64_t d : s.shape) n *= int64_t(d);
  return n;
}

// Allocates every buffer of the model (nothing written yet).
DeviceWeights allocate(const ModelConfig& c, DType type) {
  const size_t need = device_weight_bytes(c, type);
  size_t free_bytes = 0, total = 0;
  device_memory(&free_bytes, &total);
  if (need > free_bytes) throw_out_of_memory("the weights of the model (" + std::string(dtype_name(type)) + ")", need);
  const size_t e = dtype_bytes(type), C = c.d_model, qkv = size_t(c.n_heads + 2 * c.n_kv_heads) * c.head_dim;
  const size_t F = c.d_ff, V = c.vocab_size, qd = size_t(c.n_heads) * c.head_dim;
  DeviceWeights w;
  w.type = type;
  w.token_embd = DeviceBuffer(V * C * e, "the token embeddings");
  if (!c.tied_embeddings) w.output = DeviceBuffer(V * C * e, "the output matrix");
  w.output_norm = DeviceBuffer(C * 4, "the output norm");
  w.layers.resize(c.n_layers);
  for (int l = 0; l < c.n_layers; ++l) {
    DeviceLayerWeights& L = w.layers[l];
    const std::string of = " of layer " + std::to_string(l);
    L.attn_norm = DeviceBuffer(C * 4, "the attention norm" + of);
    L.wqkv = DeviceBuffer(qkv * C * e, "the q/k/v weights" + of);
    if (c.qkv_bias) L.bqkv = DeviceBuffer(qkv * 4, "the q/k/v biases" + of);
    L.wo = DeviceBuffer(C * qd * e, "the output projection" + of);
    L.ffn_norm = DeviceBuffer(C * 4, "the FFN norm" + of);
    L.w_gate_up = DeviceBuffer(2 * F * C * e, "the gate/up weights" + of);
    L.w_down = DeviceBuffer(C * F * e, "the down projection" + of);
  }
  return w;
}

Slot slot(DeviceWeights& w, const ModelConfig& c, const WeightSpec& s) {
  const int64_t C = c.d_model, qd = int64_t(c.n_heads) * c.head_dim, kvd = int64_t(c.n_kv_heads) * c.head_dim;
  using R = WeightRole;
  switch (s.role) {
    case R::TokenEmbd: return {&w.token_embd, 0, w.type, true};
    case R::Output: return {&w.output, 0, w.type, true};
    case R::OutputNorm: return {&w.output_norm, 0, DType::F32};
    case R::RopeFreqs: return {};
    default: break;
  }
  DeviceLayerWeights& L = w.layers.at(size_t(s.layer));
  switch (s.role) {
    case R::AttnNorm: return {&L.attn_norm, 0, DType::F32};
    case R::Q: return {&L.wqkv, 0, w.type, true};
    case R::K: return {&L.wqkv, qd * C, w.type, true};
    case R::V: return {&L.wqkv, (qd + kvd) * C, w.type, true};
    case R::QBias: return {&L.bqkv, 0, DType::F32};
    case R::KBias: return {&L.bqkv, qd, DType::F32};
    case R::VBias: return {&L.bqkv, qd + kvd, DType::F32};
    case R::O: return {&L.wo, 0, w.type, true};
    case R::FfnNorm: return {&L.ffn_norm, 0, DType::F32};
    case R::Gate: return {&L.w_gate_up, 0, w.type, true};
    case R::Up: return {&L.w_gate_up, int64_t(c.d_ff) * C, w.type, true};
    default: return {&L.w_down, 0, w.type, true};
  }
}

void* at(const Slot& s) { return static_cast<uint8_t*>(s.buffer->get()) + s.offset * int64_t(dtype_bytes(s.type)); }

template <class T>
__global__ void fill_normal_kernel(T* x, int64_t n, uint64_t seed, float sd) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    x[i] = from_float<T>(sd * hash_normal(seed, uint64_t(i)));
}

__global__ void fill_value_kernel(float* x, int64_t n, float v) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    x[i] = v;
}

}  // namespace

size_t device_weight_bytes(const ModelConfig& c, DType type) {
  const size_t e = dtype_bytes(type), C = c.d_model, qkv = size_t(c.n_heads + 2 * c.n_kv_heads) * c.head_dim;
  const size_t F = c.d_ff, V = c.vocab_size, qd = size_t(c.n_heads) * c.head_dim;
  const size_t per_layer = (qkv * C + C * qd + 3 * F * C) * e + (2 * C + (c.qkv_bias ? qkv : 0)) * 4;
  return (c.tied_embeddings ? 1 : 2) * V * C * e + C * 4 + size_t(c.n_layers) * per_layer;
}

DeviceWeights upload_weights(const gguf::File& f, const ModelConfig& c, DType type, cudaStream_t stream) {
  DeviceWeights w = allocate(c, type);
  DeviceBuffer staging;
  for (const WeightSpec& spec : weight_specs(c)) {
    const Tensor host = load_weight(f, c, spec);
    const Slot s = slot(w, c, spec);
    if (!s.buffer) {
      w.rope_freqs = host;
      continue;
    }
    const int64_t n = int64_t(host.size());
    if (s.type == DType::F32) {
      ADAMAS_CUDA_CHECK(cudaMemcpyAsync(at(s), host.data(), n * sizeof(float), cudaMemcpyHostToDevice, stream));
    } else {
      if (!staging) staging = DeviceBuffer(size_t(kStagingFloats) * sizeof(float), "the weight upload's staging buffer");
      for (int64_t i = 0; i < n; i += kStagingFloats) {
        const int64_t m = std::min(kStagingFloats, n - i);
        ADAMAS_CUDA_CHECK(cudaMemcpyAsync(staging.get(), host.data() + i, m * sizeof(float), cudaMemcpyHostToDevice, stream));
        Slot part = s;
        part.offset += i;
        ADAMAS_CUDA_CHECK(convert_from_f32(at(part), s.type, staging.as<float>(), m, stream));
      }
    }
    ADAMAS_CUDA_CHECK(cudaStreamSynchronize(stream));  // the staging buffer is free again, `host` may go
  }
  return w;
}

DeviceWeights random_weights(const ModelConfig& c, DType type, uint64_t seed, cudaStream_t stream) {
  DeviceWeights w = allocate(c, type);
  const std::vector<WeightSpec> specs = weight_specs(c);
  for (size_t k = 0; k < specs.size(); ++k) {
    const WeightSpec& spec = specs[k];
    const Slot s = slot(w, c, spec);
    const int64_t n = elements(spec);
    const unsigned blocks = unsigned(std::clamp<int64_t>((n + 255) / 256, 1, 8192));
    using R = WeightRole;
    if (!s.buffer) {
      w.rope_freqs.assign(size_t(n), 1.0f);
      continue;
    }
    if (!s.matrix) {
      const bool norm = spec.role == R::OutputNorm || spec.role == R::AttnNorm || spec.role == R::FfnNorm;
      fill_value_kernel<<<blocks, 256, 0, stream>>>(static_cast<float*>(at(s)), n, norm ? 1.0f : 0.0f);
    } else {
      // fan_in = ne[0], the contiguous dimension of a GGUF matrix; the embedding rows are N(0, 1)
      const float sd = spec.role == R::TokenEmbd ? 1.0f : 1.0f / std::sqrt(float(spec.shape[0]));
      const uint64_t stream_seed = seed * 0x100000001b3ull + k;  // one stream of values per tensor
      ADAMAS_DISPATCH_DTYPE(s.type, T, {
        fill_normal_kernel<T><<<blocks, 256, 0, stream>>>(static_cast<T*>(at(s)), n, stream_seed, sd);
      })
    }
    ADAMAS_CUDA_CHECK(cudaGetLastError());
  }
  ADAMAS_CUDA_CHECK(cudaStreamSynchronize(stream));
  return w;
}

}  // namespace adamas::cuda
