#include <string>

#include "common/cuda/check.h"
#include "model/cuda/kv_cache.h"

namespace adamas::cuda {

DeviceKVCache::DeviceKVCache(int n_layers, int n_kv_heads, int head_dim)
    : KV_(n_kv_heads), D_(head_dim), k_(size_t(n_layers)), v_(size_t(n_layers)) {}

void DeviceKVCache::grow(int capacity, int keep, cudaStream_t stream) {
  if (capacity <= capacity_) return;
  const size_t layer_bytes = size_t(KV_) * capacity * D_ * sizeof(__half);
  const size_t added = bytes_per_position() * size_t(capacity - capacity_);
  const size_t transient = capacity_ > 0 ? 2 * layer_bytes : 0;  // a new layer beside its old one
  size_t free_bytes = 0, total = 0;
  device_memory(&free_bytes, &total);
  const std::string what = "the KV cache for " + std::to_string(capacity) + " positions";
  if (added + transient > free_bytes) throw_out_of_memory(what, added + transient);

  const size_t old_pitch = size_t(capacity_) * D_ * sizeof(__half), new_pitch = size_t(capacity) * D_ * sizeof(__half);
  const size_t kept = size_t(keep) * D_ * sizeof(__half);
  for (size_t l = 0; l < k_.size(); ++l)
    for (std::vector<DeviceBuffer>* side : {&k_, &v_}) {
      DeviceBuffer next(layer_bytes, what);
      if (kept > 0)  // every KV head's first `keep` positions: KV_ rows of a 2-D copy
        ADAMAS_CUDA_CHECK(cudaMemcpy2DAsync(next.get(), new_pitch, (*side)[l].get(), old_pitch, kept, size_t(KV_),
                                            cudaMemcpyDeviceToDevice, stream));
      ADAMAS_CUDA_CHECK(cudaStreamSynchronize(stream));  // the old layer is read before it is freed
      (*side)[l] = std::move(next);
    }
  capacity_ = capacity;
}

}  // namespace adamas::cuda
