#include "model/cuda/gemm.h"

#if ADAMAS_WITH_CUBLAS
#include <cublasLt.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "common/cuda/check.h"

#define ADAMAS_CUBLAS_CHECK(call)                                                                           \
  do {                                                                                                      \
    const cublasStatus_t st_ = (call);                                                                      \
    if (st_ != CUBLAS_STATUS_SUCCESS)                                                                       \
      throw ::adamas::cuda::Error(std::string(__FILE__) + ":" + std::to_string(__LINE__) + ": " #call " failed: " + \
                                  cublasLtGetStatusName(st_) + " (" + cublasLtGetStatusString(st_) + ")");  \
  } while (0)

namespace adamas::cuda {

namespace {

constexpr size_t kWorkspaceBytes = size_t(32) << 20;

cudaDataType_t cuda_type(DType t) {
  switch (t) {
    case DType::F32: return CUDA_R_32F;
    case DType::F16: return CUDA_R_16F;
    case DType::BF16: return CUDA_R_16BF;
  }
  return CUDA_R_32F;
}

// The largest power of two (up to 256) dividing an address.
unsigned alignment_of(const void* p) {
  const uintptr_t bits = reinterpret_cast<uintptr_t>(p) | 256;
  return unsigned(bits & (~bits + 1));
}

// The three alignments in one key: 9 bits each (powers of two up to 256).
unsigned pack_alignments(unsigned w, unsigned x, unsigned out) { return w | x << 9 | out << 18; }

std::string shape_text(int M, int N, int K, DType in, DType out) {
  return "[" + std::to_string(M) + " x " + std::to_string(K) + "] . [" + std::to_string(N) + " x " +
         std::to_string(K) + "]^T (" + dtype_name(in) + " in, " + dtype_name(out) + " out)";
}

}  // namespace

// Column-major view of the row-major product: out^T [N x M] = W [K x N]^T . x^T [K x M], so A = W
// (transposed), B = x, C = D = out, all with leading dimension their row length.
struct Gemm::Plan {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algo{};
  ~Plan() {
    if (c) cublasLtMatrixLayoutDestroy(c);
    if (b) cublasLtMatrixLayoutDestroy(b);
    if (a) cublasLtMatrixLayoutDestroy(a);
    if (desc) cublasLtMatmulDescDestroy(desc);
  }
};

Gemm::Gemm(cudaStream_t stream) : stream_(stream), workspace_(kWorkspaceBytes, "the cuBLASLt workspace") {
  cublasLtHandle_t h = nullptr;
  ADAMAS_CUBLAS_CHECK(cublasLtCreate(&h));
  handle_ = h;
}

Gemm::~Gemm() {
  plans_.clear();
  if (handle_) cublasLtDestroy(static_cast<cublasLtHandle_t>(handle_));
}

Gemm::Plan& Gemm::plan(DType out_type, DType in_type, int M, int N, int K, bool accumulate, unsigned alignment) {
  const Key key{M, N, K, int(in_type), int(out_type), accumulate, alignment};
  auto it = plans_.find(key);
  if (it != plans_.end()) return *it->second;
  if (M < 1 || N < 1 || K < 1)
    throw Error("GEMM: unsupported product " + shape_text(M, N, K, in_type, out_type));

  auto p = std::make_unique<Plan>();
  ADAMAS_CUBLAS_CHECK(cublasLtMatmulDescCreate(&p->desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  const cublasOperation_t trans = CUBLAS_OP_T;
  ADAMAS_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_TRANSA, &trans, sizeof trans));
  ADAMAS_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&p->a, cuda_type(in_type), K, N, K));
  ADAMAS_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&p->b, cuda_type(in_type), K, M, K));
  ADAMAS_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&p->c, cuda_type(out_type), N, M, N));

  cublasLtMatmulPreference_t pref = nullptr;
  ADAMAS_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
  const uint64_t ws = workspace_.bytes();
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
  const uint32_t align_w = alignment & 511, align_x = (alignment >> 9) & 511, align_out = alignment >> 18;
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &align_w, sizeof align_w);
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &align_x, sizeof align_x);
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &align_out, sizeof align_out);
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &align_out, sizeof align_out);
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  const cublasStatus_t st = cublasLtMatmulAlgoGetHeuristic(static_cast<cublasLtHandle_t>(handle_), p->desc, p->a,
                                                           p->b, p->c, p->c, pref, 1, &result, &found);
  cublasLtMatmulPreferenceDestroy(pref);
  if (st != CUBLAS_STATUS_SUCCESS || found == 0)
    throw Error("GEMM: cuBLASLt has no algorithm for " + shape_text(M, N, K, in_type, out_type) + " (" +
                cublasLtGetStatusName(st) + ")");
  p->algo = result.algo;
  return *plans_.emplace(key, std::move(p)).first->second;
}

void Gemm::prepare(DType out_type, DType in_type, int M, int N, int K, bool accumulate) {
  plan(out_type, in_type, M, N, K, accumulate, pack_alignments(256, 256, 256));
}

void Gemm::run(void* out, DType out_type, const void* x, const void* w, DType in_type, int M, int N, int K,
               bool accumulate) {
  Plan& p = plan(out_type, in_type, M, N, K, accumulate, pack_alignments(alignment_of(w), alignment_of(x), alignment_of(out)));
  const float alpha = 1.0f, beta = accumulate ? 1.0f : 0.0f;
  ADAMAS_CUBLAS_CHECK(cublasLtMatmul(static_cast<cublasLtHandle_t>(handle_), p.desc, &alpha, w, p.a, x, p.b, &beta,
                                     out, p.c, out, p.c, &p.algo, workspace_.get(), workspace_.bytes(), stream_));
}

}  // namespace adamas::cuda

#endif  // ADAMAS_WITH_CUBLAS
