// What the engine reads off the logits on the device, so that they leave it only when asked for.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace adamas::cuda {

// *token = the index of the largest of logits[0, V), the first of equal maxima (as cpu::argmax).
cudaError_t argmax(int32_t* token, const float* logits, int V, cudaStream_t stream);

// nll[r] = log(sum(exp(logits[r]))) - logits[r][targets[r]] for each of the rows of logits [rows][V]:
// the negative log-likelihood of the target token.
cudaError_t nll_rows(float* nll, const float* logits, const int32_t* targets, int rows, int V, cudaStream_t stream);

}  // namespace adamas::cuda
