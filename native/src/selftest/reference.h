// One layer's decode step computed plainly from the definitions (DESIGN.md "Methods" and the
// semantics at the top of attention/cpu/<method>.cpp): per-element codes, full sorts, softmax in
// double precision. The selftest holds the CPU layer attention to it; where a definition fixes
// the float32 arithmetic of a score (Quest's bounds and Oracle's q.k summed in channel order, the
// Hadamard butterflies), the score is computed with that arithmetic, so selections are exact.
#pragma once
#include <vector>

#include "attention/layer.h"
#include "attention/options.h"
#include "tensor/kv_cache.h"

namespace adamas::selftest {

// The positions each of the H query heads attends to at a step of length n (the current token at
// n - 1). q: [H][D] post-RoPE queries; kv holds at least n positions. Supports every method with
// fixed thresholds and token granularity (InvalidArgument otherwise); opts validated.
Selection reference_selection(const AttentionOptions& opts, const float* q, const KVView& kv, int H, int n);

// out[H][D]: exact softmax attention (scale 1/sqrt(D)) of each query head over its list, in double.
std::vector<double> reference_attention(const float* q, const KVView& kv, int H, const Selection& sel);

// mass[H]: the share of full attention's softmax mass over [0, n) that falls on each head's list.
std::vector<double> reference_mass(const float* q, const KVView& kv, int H, int n, const Selection& sel);

}  // namespace adamas::selftest
