// Helpers of the CUDA tests: the device check, fp16 inputs shared by device and CPU reference,
// and comparisons. Every kernel is held to the CPU reference on fp16-rounded inputs: selections
// must be identical, attention outputs within 1e-3 relative, and outputs are poisoned first so
// that an element left unwritten fails.
#pragma once
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "../check.h"
#include "attention/cuda/decode.h"
#include "attention/layer.h"
#include "common/cuda/buffer.h"
#include "tensor/kv_cache.h"

namespace adamas::test {

// True when a CUDA device is present; otherwise the test is marked skipped (and should return).
inline bool have_cuda_device() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
    cudaGetLastError();  // clear the error state
    skip("no CUDA device");
    return false;
  }
  return true;
}

// Normal values rounded to fp16: `dev` as the device stores them, `host` as the CPU sees them.
struct HalfValues {
  std::vector<__half> dev;
  std::vector<float> host;
};

inline HalfValues random_half(std::mt19937& rng, size_t n, float sd) {
  std::normal_distribution<float> dist(0.0f, sd);
  HalfValues v{std::vector<__half>(n), std::vector<float>(n)};
  for (size_t i = 0; i < n; ++i) {
    v.dev[i] = __float2half_rn(dist(rng));
    v.host[i] = __half2float(v.dev[i]);
  }
  return v;
}

// k distinct positions of [0, n) in random order.
inline std::vector<int32_t> random_positions(std::mt19937& rng, int n, int k) {
  std::vector<int32_t> all(static_cast<size_t>(n));
  std::iota(all.begin(), all.end(), 0);
  std::shuffle(all.begin(), all.end(), rng);
  all.resize(static_cast<size_t>(k));
  return all;
}

inline std::vector<float> random_floats(std::mt19937& rng, size_t n, float sd) {
  std::normal_distribution<float> dist(0.0f, sd);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// A KV cache of n_kv heads and `capacity` positions on the device and its fp32 twin on the host.
struct TestKV {
  int KV, D, capacity;
  HalfValues k, v;
  cuda::DeviceArray<__half> dk, dv;
  TestKV(std::mt19937& rng, int n_kv, int d, int cap, float key_sd = 8.0f)
      : KV(n_kv),
        D(d),
        capacity(cap),
        k(random_half(rng, size_t(n_kv) * cap * d, key_sd)),
        v(random_half(rng, size_t(n_kv) * cap * d, 1.0f)),
        dk(k.dev),
        dv(v.dev) {}
  KVView view(int length) const { return KVView{k.host.data(), v.host.data(), KV, D, int64_t(capacity) * D, length}; }
  cuda::DeviceKV device() const { return cuda::DeviceKV{dk.get(), dv.get(), int64_t(capacity) * D, KV, D}; }
  // The same caches as the layer attention of each backend takes them.
  LayerKV host_layer() const { return LayerKV{k.host.data(), v.host.data(), int64_t(capacity) * D, KV, D}; }
  LayerKV device_layer() const { return LayerKV{dk.get(), dv.get(), int64_t(capacity) * D, KV, D}; }
};

// max |got - want| / max |want|; infinite when got has a non-finite element (unwritten: poisoned).
inline double relative_error(const std::vector<float>& got, const std::vector<float>& want) {
  double diff = 0, scale = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (!std::isfinite(got[i])) return INFINITY;
    diff = std::max(diff, double(std::fabs(got[i] - want[i])));
    scale = std::max(scale, double(std::fabs(want[i])));
  }
  return diff / std::max(scale, 1e-30);
}

inline std::string shape_name(int H, int KV, int D, int n) {
  return "H " + std::to_string(H) + ", KV " + std::to_string(KV) + ", D " + std::to_string(D) + ", n " +
         std::to_string(n);
}

}  // namespace adamas::test

// Synchronises and fails the test (with file, line and call) on any CUDA error so far.
#define SYNC_CHECK() ADAMAS_CUDA_CHECK(cudaDeviceSynchronize())

// Fails the test, naming `what`, unless got is within tol of want (relative_error).
#define CHECK_REL(got, want, tol, what)                                                                  \
  do {                                                                                                   \
    const double e_ = ::adamas::test::relative_error(got, want);                                         \
    if (!(e_ <= (tol)))                                                                                  \
      ::adamas::test::fail(__FILE__, __LINE__, std::string(what) + ": relative error " + std::to_string(e_)); \
  } while (0)
