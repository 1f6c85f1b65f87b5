// buildInfo(): how the native code was built and what it can use on this machine. cuda.engine says
// whether the CUDA model engine is built (it needs cuBLAS beside the kernels: ADAMAS_WITH_CUBLAS).
#include <omp.h>

#include "addon/bindings.h"
#include "common/cuda_status.h"

namespace adamas::addon {

namespace {

Napi::Value build_info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("version", ADAMAS_VERSION);
  o.Set("compiler", __VERSION__);
  o.Set("cxxStandard", double(__cplusplus));
  o.Set("threads", omp_get_max_threads());
#if defined(__AVX2__) && defined(__FMA__)
  o.Set("simd", "avx2+fma");
#else
  o.Set("simd", "generic");
#endif
  const CudaStatus cs = cuda_status();
  Napi::Object cuda = Napi::Object::New(env);
  cuda.Set("built", cs.built);
#if defined(ADAMAS_WITH_CUDA) && ADAMAS_WITH_CUBLAS
  cuda.Set("engine", true);
#else
  cuda.Set("engine", false);
#endif
  cuda.Set("driverVersion", cs.driver_version);
  cuda.Set("runtimeVersion", cs.runtime_version);
  if (!cs.error.empty()) cuda.Set("error", cs.error);
  Napi::Array devices = Napi::Array::New(env, cs.devices.size());
  for (size_t i = 0; i < cs.devices.size(); ++i) {
    const CudaDevice& d = cs.devices[i];
    Napi::Object dj = Napi::Object::New(env);
    dj.Set("index", d.index);
    dj.Set("name", d.name);
    dj.Set("totalMemory", double(d.total_memory));
    dj.Set("computeCapability", std::to_string(d.cc_major) + "." + std::to_string(d.cc_minor));
    dj.Set("smCount", d.sm_count);
    dj.Set("peakBandwidthGBs", d.peak_bandwidth_gbs);
    dj.Set("l2Bytes", d.l2_bytes);
    devices.Set(uint32_t(i), dj);
  }
  cuda.Set("devices", devices);
  o.Set("cuda", cuda);
  Napi::Array backends = Napi::Array::New(env);
  backends.Set(0u, "cpu");
  if (cs.built) backends.Set(1u, "cuda");
  o.Set("backends", backends);
  return o;
}

}  // namespace

void register_build_info(Napi::Env env, Napi::Object exports) {
  exports.Set("buildInfo", Napi::Function::New(env, build_info, "buildInfo"));
}

}  // namespace adamas::addon
