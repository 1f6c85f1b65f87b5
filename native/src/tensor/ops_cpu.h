// CPU building blocks of the forward pass and of attention (float32). Dims legend:
//   T tokens in the batch, K input features, N output features, D head_dim.
// Matrices are row-major; weights are stored as W[N][K] (GGUF order: ne[0] = K is contiguous).
#pragma once
#include <cstdint>
#include <vector>

namespace adamas::cpu {

// out[T][N] = x[T][K] . W[N][K]^T (+ bias[N]). Parallel over output tiles (OpenMP).
void matmul(float* out, const float* x, const float* w, const float* bias, int T, int K, int N);
// Same, single-threaded: for use inside an already parallel region.
void matmul_serial(float* out, const float* x, const float* w, int T, int K, int N, int ldo);

// out[T][C] = x / sqrt(mean(x^2) + eps) * weight; out may alias x.
void rmsnorm(float* out, const float* x, const float* weight, int T, int C, float eps);

// h[i] = silu(gate[i]) * up[i]
void swiglu(float* h, const float* gate, const float* up, int64_t n);

float dot(const float* a, const float* b, int n);
// y += a * x
void axpy(float* y, float a, const float* x, int n);

// In place: x[i] = exp(x[i] - shift); returns the sum. Vectorised (a degree-6 polynomial after
// range reduction, relative error < 2e-7; exp(-inf) = 0), the exponential of every softmax here.
float exp_shifted(float* x, int n, float shift);

// In place: softmax over n logits; returns log(sum(exp(x))) before normalisation.
double softmax(float* x, int n);
int argmax(const float* x, int n);

}  // namespace adamas::cpu
