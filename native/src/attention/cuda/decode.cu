#include <algorithm>
#include <climits>
#include <cmath>

#include "attention/cuda/decode.h"
#include "attention/cuda/dispatch.cuh"
#include "attention/cuda/mma.cuh"

namespace adamas::cuda {

namespace {

constexpr int kWarps = 4;
constexpr int kThreads = 32 * kWarps;
constexpr int kTile = 16;                // positions a warp takes at a time (the k of one P V product)
constexpr int kStep = kWarps * kTile;    // positions a block takes at a time; chunks are multiples
constexpr int kRows = 8;                 // query heads a block serves at most (rows 8..15 hold their low parts)
constexpr int kMaxSlots = 256;           // chunks of one list over a whole batch
constexpr float kLog2e = 1.4426950408889634f;

enum class Source { Dense, Listed, Window };

struct Args {
  float* out;          // [batch][n_heads][D] (q_stride apart)
  const float* q;
  const __half* k;
  const __half* v;
  int64_t head_stride, kv_stride, q_stride;
  const int32_t* idx;  // Listed
  int64_t list_stride, idx_batch_stride;
  const int* len_dev;  // per sequence: positions (Dense), list length (Listed), sequence length (Window)
  int len;             // the same for every sequence when len_dev is null
  int budget, sink;    // Window
  int batch;
  int n_lists;
  int heads_per_list;
  int group;           // query heads per KV head
  int chunk_target;    // chunks of a list over the batch that the chunk size aims at
  int bound;           // positions of a sequence's list at most (longer ones are cut)
  float scale_log2;    // softmax scale * log2(e): exp2 of the scaled logits
  int* done;           // [batch][n_lists] chunks finished; the last block of a list merges and resets it
  float2* part_ml;     // [n_heads][kMaxSlots] max logit (log2 units) and sum of weights of each chunk
  float* part_acc;     // [n_heads][kMaxSlots][D] unnormalised weighted values of each chunk
};

// The chunk of a block: sequence b, chunk `split` of its `splits` (slots first .. first + splits - 1
// of the list), positions [begin, end) of the sequence's `count`; b < 0 when the block has none.
struct Work {
  int b = -1, split = 0, splits = 0, first = 0, begin = 0, end = 0, count = 0, n = 0;
};

__device__ __forceinline__ int length_of(const Args& a, int b) { return max(a.len_dev ? a.len_dev[b] : a.len, 0); }

template <Source S>
__device__ __forceinline__ int count_of(const Args& a, int n) {
  return min(S == Source::Window ? min(n, a.budget) : n, a.bound);
}

// Every warp of the block finds the same chunk: the chunk size is the smallest multiple of kStep
// that cuts the batch's positions of a list into chunk_target chunks, each sequence into whole
// chunks (at least one), numbered sequence after sequence.
template <Source S>
__device__ Work locate(const Args& a, int slot) {
  const int lane = threadIdx.x % 32;
  long long total = 0;
  for (int b0 = 0; b0 < a.batch; b0 += 32)
    if (b0 + lane < a.batch) total += count_of<S>(a, length_of(a, b0 + lane));
#pragma unroll
  for (int off = 16; off > 0; off /= 2) total += __shfl_xor_sync(0xffffffffu, total, off);
  const long long per = (total + a.chunk_target - 1) / a.chunk_target;
  const int chunk = int((max(per, 1ll) + kStep - 1) / kStep * kStep);
  Work w;
  int first = 0;
  for (int b0 = 0; b0 < a.batch; b0 += 32) {
    const int b = b0 + lane;
    const bool in = b < a.batch;
    const int n = in ? length_of(a, b) : 0, count = count_of<S>(a, n);
    const int splits = in ? max(1, (count + chunk - 1) / chunk) : 0;
    int incl = splits;
#pragma unroll
    for (int off = 1; off < 32; off *= 2) {
      const int o = __shfl_up_sync(0xffffffffu, incl, off);
      if (lane >= off) incl += o;
    }
    const int excl = first + incl - splits;
    const unsigned hit = __ballot_sync(0xffffffffu, in && slot >= excl && slot < excl + splits);
    if (hit) {
      const int src = __ffs(hit) - 1;
      w.b = b0 + src;
      w.first = __shfl_sync(0xffffffffu, excl, src);
      w.splits = __shfl_sync(0xffffffffu, splits, src);
      w.count = __shfl_sync(0xffffffffu, count, src);
      w.n = __shfl_sync(0xffffffffu, n, src);
      w.split = slot - w.first;
      w.begin = w.split * chunk;
      w.end = min(w.count, w.begin + chunk);
      return w;
    }
    first += __shfl_sync(0xffffffffu, incl, 31);
  }
  return w;
}

// Position of entry t of the block's list.
template <Source S>
__device__ __forceinline__ int64_t position(const Args& a, const Work& w, const int32_t* list, int t) {
  if constexpr (S == Source::Dense) return t;
  if constexpr (S == Source::Listed) return list[t];
  if (a.budget >= w.n) return t;
  const int s = min(a.sink, a.budget - 1);
  return t < s ? t : int64_t(w.n) - a.budget + t;
}

__device__ __forceinline__ uint32_t word(const uint4& u, int i) { return i == 0 ? u.x : i == 1 ? u.y : i == 2 ? u.z : u.w; }

// Register layout of a warp's tile (r = lane / 4, c = lane % 4; mma.cuh gives the fragments).
// Lane (r, c) loads 16 bytes of K and V at channels 32j + 8c .. 32j + 8c + 7 (j < D / 32) of the
// tile's positions r and 8 + r. Since a dot product may sum its channels in any order, k-step
// 2j + u of S = Q K^T takes from those loads the channels 32j + 8c + 4u + {0, 1} (k = 2c + {0, 1})
// and 32j + 8c + 4u + {2, 3} (k = 2c + 8 + {0, 1}); the queries' fragments follow the same map.
// For P V, the 8 x 8 block of V words i of chunk j (rows: 8 positions, lane (r, c) holding
// channels 32j + 8c + 2i + {0, 1} of row r) transposed is the B fragment of output columns
// v = 0..7 that stand for channels 32j + 8(v / 2) + 2i + v % 2: so each lane's output columns
// are again its own 8 channels 32j + 8c .. 32j + 8c + 7.
template <int D, Source S>
__global__ void __launch_bounds__(kThreads) decode_kernel(const Args a) {
  constexpr int kChunks = D / 32;
  constexpr int kPad = 4;  // floats after each row of s_o: rows 16 bytes apart in the banks
  __shared__ __align__(16) float s_o[kWarps][kRows][D + kPad];
  __shared__ float2 s_ml[kWarps][kRows];
  __shared__ float s_l[kRows];
  __shared__ bool s_last;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, r = lane / 4, c = lane % 4, tid = threadIdx.x;
  const int list = blockIdx.x;
  const Work w = locate<S>(a, blockIdx.y);
  if (w.b < 0) return;  // past the batch's chunks (the same for every warp)

  const int g = a.heads_per_list, h0 = list * g, kvh = h0 / a.group;
  const int64_t kv_base = w.b * a.kv_stride + kvh * a.head_stride + 8 * c;
  const __half* K = a.k + kv_base;
  const __half* V = a.v + kv_base;
  const float* q = a.q + w.b * a.q_stride + int64_t(h0) * D;
  float* out = a.out + w.b * a.q_stride + int64_t(h0) * D;
  const int32_t* lst = S == Source::Listed ? a.idx + w.b * a.idx_batch_stride + list * a.list_stride : nullptr;

  // A fragments of S = Q K^T: rows r = query head h0 + r (fp16), rows 8 + r its rounding error
  uint32_t qf[kChunks][2][4];
#pragma unroll
  for (int j = 0; j < kChunks; ++j)
#pragma unroll
    for (int u = 0; u < 2; ++u) {
      float4 x = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
      if (r < g) x = *reinterpret_cast<const float4*>(q + r * D + 32 * j + 8 * c + 4 * u);
      split_half2(x.x, x.y, qf[j][u][0], qf[j][u][1]);
      split_half2(x.z, x.w, qf[j][u][2], qf[j][u][3]);
    }

  float acc[kChunks][4][4];  // C fragments of P V, n-tile (j, i)
#pragma unroll
  for (int j = 0; j < kChunks; ++j)
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[j][i][e] = 0.0f;
  float m = -INFINITY, l = 0.0f;  // of head r: running max (quad-uniform), this lane's sum of weights

  int tb = w.begin + warp * kTile;
  int32_t cur[2] = {0, 0};  // list entries of this lane's two rows (Listed), one tile ahead of use
  if constexpr (S == Source::Listed)
#pragma unroll
    for (int nt = 0; nt < 2; ++nt) cur[nt] = tb + 8 * nt + r < w.end ? lst[tb + 8 * nt + r] : 0;

  for (; tb < w.end; tb += kStep) {
    uint4 kr[2][kChunks], vr[2][kChunks];
#pragma unroll
    for (int nt = 0; nt < 2; ++nt) {
      const int t = tb + 8 * nt + r;
      const bool ok = t < w.end;
      const int64_t pos = S == Source::Listed ? int64_t(cur[nt]) : (ok ? position<S>(a, w, lst, t) : 0);
#pragma unroll
      for (int j = 0; j < kChunks; ++j) {
        kr[nt][j] = vr[nt][j] = make_uint4(0, 0, 0, 0);
        if (ok) {
          kr[nt][j] = __ldg(reinterpret_cast<const uint4*>(K + pos * D + 32 * j));
          vr[nt][j] = __ldg(reinterpret_cast<const uint4*>(V + pos * D + 32 * j));
        }
      }
    }
    if constexpr (S == Source::Listed)
#pragma unroll
      for (int nt = 0; nt < 2; ++nt) {
        const int t = tb + kStep + 8 * nt + r;
        cur[nt] = t < w.end ? lst[t] : 0;
      }

    // S: two accumulators per 8-position n-tile (even and odd k-steps) shorten the MMA chains
    float s[2][2][4];
#pragma unroll
    for (int nt = 0; nt < 2; ++nt)
#pragma unroll
      for (int u = 0; u < 2; ++u) {
#pragma unroll
        for (int e = 0; e < 4; ++e) s[nt][u][e] = 0.0f;
#pragma unroll
        for (int j = 0; j < kChunks; ++j) mma_16816(s[nt][u], qf[j][u], word(kr[nt][j], 2 * u), word(kr[nt][j], 2 * u + 1));
      }

    // lane (r, c) holds the logits of head r at the tile's positions 8nt + 2c + e
    float x[2][2], mx = -INFINITY;
#pragma unroll
    for (int nt = 0; nt < 2; ++nt)
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const bool ok = tb + 8 * nt + 2 * c + e < w.end;
        const float dot = (s[nt][0][e] + s[nt][0][2 + e]) + (s[nt][1][e] + s[nt][1][2 + e]);
        x[nt][e] = ok ? dot * a.scale_log2 : -INFINITY;
        mx = fmaxf(mx, x[nt][e]);
      }
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
    const float m_new = fmaxf(m, mx);  // finite: position tb is in the chunk
    const float corr = exp2f(m - m_new);
    m = m_new;
    l *= corr;
#pragma unroll
    for (int j = 0; j < kChunks; ++j)
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int e = 0; e < 4; ++e) acc[j][i][e] *= corr;
    float p[2][2];
#pragma unroll
    for (int nt = 0; nt < 2; ++nt)
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        p[nt][e] = exp2f(x[nt][e] - m_new);
        l += p[nt][e];
      }
    // A fragment of P V: rows r = P (fp16), rows 8 + r its rounding error; k = the tile's positions
    uint32_t pa[4];
    split_half2(p[0][0], p[0][1], pa[0], pa[1]);
    split_half2(p[1][0], p[1][1], pa[2], pa[3]);
#pragma unroll
    for (int j = 0; j < kChunks; ++j)
#pragma unroll
      for (int i = 0; i < 4; ++i)
        mma_16816(acc[j][i], pa, transpose_8x8(word(vr[0][j], i)), transpose_8x8(word(vr[1][j], i)));
  }

  // the warps' partial results -> the block's (in shared memory)
  l += __shfl_xor_sync(0xffffffffu, l, 1);
  l += __shfl_xor_sync(0xffffffffu, l, 2);
  if (r < g) {
    float* o = &s_o[warp][r][0];
#pragma unroll
    for (int j = 0; j < kChunks; ++j) {
      float v[8];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        v[2 * i] = acc[j][i][0] + acc[j][i][2];
        v[2 * i + 1] = acc[j][i][1] + acc[j][i][3];
      }
      *reinterpret_cast<float4*>(o + 32 * j + 8 * c) = make_float4(v[0], v[1], v[2], v[3]);
      *reinterpret_cast<float4*>(o + 32 * j + 8 * c + 4) = make_float4(v[4], v[5], v[6], v[7]);
    }
    if (c == 0) s_ml[warp][r] = make_float2(m, l);
  }
  __syncthreads();
  const int slot = w.first + w.split;
  for (int e = tid; e < g * D; e += kThreads) {
    const int h = e / D, d = e % D;
    float M = -INFINITY;
#pragma unroll
    for (int k = 0; k < kWarps; ++k) M = fmaxf(M, s_ml[k][h].x);
    float L = 0.0f, A = 0.0f;
#pragma unroll
    for (int k = 0; k < kWarps; ++k) {
      const float2 ml = s_ml[k][h];
      if (ml.x == -INFINITY) continue;  // a warp that had no tile
      const float wgt = exp2f(ml.x - M);
      L = fmaf(ml.y, wgt, L);
      A = fmaf(s_o[k][h][d], wgt, A);
    }
    if (w.splits == 1) {
      out[h * D + d] = L > 0.0f ? A / L : 0.0f;
    } else {
      const int qh = h0 + h;
      a.part_acc[(int64_t(qh) * kMaxSlots + slot) * D + d] = A;
      if (d == 0) a.part_ml[qh * kMaxSlots + slot] = make_float2(M, L);
    }
  }
  if (w.splits == 1) return;

  // The last chunk of the list to finish merges all of them (no second launch).
  int* done = a.done + w.b * a.n_lists + list;
  __threadfence();
  __syncthreads();
  if (tid == 0) s_last = atomicAdd(done, 1) == w.splits - 1;
  __syncthreads();
  if (!s_last) return;
  __threadfence();
  float* s_w = &s_o[0][0][0];  // [kRows][kMaxSlots] weight of each chunk, per head
  static_assert(kRows * kMaxSlots <= kWarps * kRows * (D + kPad), "merge weights fit in s_o");
  for (int h = warp; h < g; h += kWarps) {
    const float2* ml = a.part_ml + (h0 + h) * kMaxSlots + w.first;
    float M = -INFINITY;
    for (int s = lane; s < w.splits; s += 32) M = fmaxf(M, __ldcg(&ml[s]).x);
#pragma unroll
    for (int off = 16; off > 0; off /= 2) M = fmaxf(M, __shfl_xor_sync(0xffffffffu, M, off));
    float L = 0.0f;
    for (int s = lane; s < w.splits; s += 32) {
      const float2 x = __ldcg(&ml[s]);
      const float wgt = x.x == -INFINITY ? 0.0f : exp2f(x.x - M);
      s_w[h * kMaxSlots + s] = wgt;
      L = fmaf(x.y, wgt, L);
    }
#pragma unroll
    for (int off = 16; off > 0; off /= 2) L += __shfl_xor_sync(0xffffffffu, L, off);
    if (lane == 0) s_l[h] = L;
  }
  __syncthreads();
  constexpr int kVec = D / 4;
  for (int e = tid; e < g * kVec; e += kThreads) {
    const int h = e / kVec, d4 = e % kVec;
    const float4* part = reinterpret_cast<const float4*>(a.part_acc + (int64_t(h0 + h) * kMaxSlots + w.first) * D) + d4;
    const float* wgt = s_w + h * kMaxSlots;
    float4 A = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
#pragma unroll 4
    for (int s = 0; s < w.splits; ++s) {
      const float4 x = __ldcg(part + s * kVec);
      A.x = fmaf(x.x, wgt[s], A.x);
      A.y = fmaf(x.y, wgt[s], A.y);
      A.z = fmaf(x.z, wgt[s], A.z);
      A.w = fmaf(x.w, wgt[s], A.w);
    }
    const float L = s_l[h], inv = L > 0.0f ? 1.0f / L : 0.0f;
    *reinterpret_cast<float4*>(out + h * D + 4 * d4) = make_float4(A.x * inv, A.y * inv, A.z * inv, A.w * inv);
  }
  if (tid == 0) *done = 0;  // ready for the next launch
}

template <int D, Source S>
int blocks_per_sm() {
  static const int n = [] {
    int b = 0;
    cudaOccupancyMaxActiveBlocksPerMultiprocessor(&b, decode_kernel<D, S>, kThreads, 0);
    return std::max(b, 1);
  }();
  return n;
}

// Slots (chunks) per list over a batch: the fewest whole waves of blocks over the multiprocessors
// that give every sequence a slot (one wave mostly: the blocks stream K and V at the same rate, so
// one resident wave of equal chunks finishes together), at most kMaxSlots, and no more than
// chunks of kStep positions need when the host bounds the positions (total < 0: no bound).
int slots_per_list(int n_lists, int per_sm, int batch, long long total) {
  const long long cap = (long long)sm_count() * per_sm;
  const long long waves = std::max(1ll, ((long long)n_lists * batch + cap - 1) / cap);
  long long slots = std::clamp(waves * cap / n_lists, (long long)batch, (long long)kMaxSlots);
  if (total >= 0) slots = std::min(slots, batch - 1 + std::max(1ll, (total + kStep - 1) / kStep));
  return int(slots);
}

// Workspace: [done: one int per (sequence, list), padded to 16 bytes][part_ml][part_acc].
size_t counter_bytes(int n_heads) { return round_up(sizeof(int) * size_t(n_heads) * kMaxDecodeBatch, 16); }

// bound: positions of a sequence's list at most as the host knows it (< 0: unknown).
template <Source S>
cudaError_t launch(Args a, int n_heads, int head_dim, const DecodeBatch& batch, long long bound, void* workspace,
                   cudaStream_t stream) {
  if (a.heads_per_list < 1 || n_heads % a.heads_per_list != 0 || a.heads_per_list > kRows) return cudaErrorInvalidValue;
  if (batch.size < 1 || batch.size > kMaxDecodeBatch || batch.q_stride % 4 != 0 || batch.kv_stride % 8 != 0)
    return cudaErrorInvalidValue;
  if (!a.len_dev && a.len < 0) return cudaErrorInvalidValue;
  a.n_lists = n_heads / a.heads_per_list;
  a.batch = batch.size;
  a.q_stride = batch.q_stride;
  a.kv_stride = batch.kv_stride;
  uint8_t* ws = static_cast<uint8_t*>(workspace);
  a.done = reinterpret_cast<int*>(ws);
  a.part_ml = reinterpret_cast<float2*>(ws + counter_bytes(n_heads));
  a.part_acc = reinterpret_cast<float*>(a.part_ml + size_t(n_heads) * kMaxSlots);
  ADAMAS_DISPATCH_HEAD_DIM(head_dim, D, {
    // the grid: chunk_target + batch - 1 slots per list hold every chunk (each sequence rounds
    // its last chunk up at most once); x = list, so the blocks with work (the low slots) come first
    const int slots = slots_per_list(a.n_lists, blocks_per_sm<D, S>(), batch.size, bound < 0 ? -1 : bound * batch.size);
    a.chunk_target = std::max(1, slots - (batch.size - 1));
    decode_kernel<D, S><<<dim3(a.n_lists, slots), kThreads, 0, stream>>>(a);
  })
  return cudaGetLastError();
}

Args base_args(float* out, const float* q, const DeviceKV& kv, float scale) {
  Args a{};
  a.out = out;
  a.q = q;
  a.k = kv.k;
  a.v = kv.v;
  a.head_stride = kv.head_stride;
  a.scale_log2 = scale * kLog2e;
  a.bound = INT_MAX;
  return a;
}

bool valid_layout(const DeviceKV& kv, int n_heads) {
  return kv.n_kv_heads >= 1 && n_heads % kv.n_kv_heads == 0 && kv.head_stride % 8 == 0;
}

}  // namespace

size_t decode_workspace_bytes(int n_heads, int head_dim) {
  return counter_bytes(n_heads) +
         size_t(n_heads) * kMaxSlots * (sizeof(float2) + sizeof(float) * size_t(head_dim));
}

cudaError_t decode_attention(float* out, const float* q, const DeviceKV& kv, int n_heads, const SeqLengths& len,
                             const DecodeBatch& batch, float scale, void* workspace, cudaStream_t stream) {
  if (!valid_layout(kv, n_heads)) return cudaErrorInvalidValue;
  const int group = n_heads / kv.n_kv_heads;
  ADAMAS_DISPATCH_GROUP_BOUND(group, G, (void)G;)  // names an unsupported group before anything runs
  Args a = base_args(out, q, kv, scale);
  a.len_dev = len.dev;
  a.len = len.n;
  a.heads_per_list = group;
  a.group = group;
  return launch<Source::Dense>(a, n_heads, kv.head_dim, batch, len.dev ? -1 : len.n, workspace, stream);
}

cudaError_t sparse_decode_attention(float* out, const float* q, const DeviceKV& kv, int n_heads,
                                    const PositionLists& lists, const DecodeBatch& batch, float scale,
                                    void* workspace, cudaStream_t stream) {
  if (!valid_layout(kv, n_heads)) return cudaErrorInvalidValue;
  const int group = n_heads / kv.n_kv_heads;
  if (lists.heads_per_list < 1 || group % lists.heads_per_list != 0) return cudaErrorInvalidValue;
  ADAMAS_DISPATCH_GROUP_BOUND(lists.heads_per_list, G, (void)G;)
  Args a = base_args(out, q, kv, scale);
  a.idx = lists.idx;
  a.list_stride = lists.list_stride;
  a.idx_batch_stride = lists.batch_stride;
  a.len_dev = lists.len.dev;
  a.len = lists.len.n;
  a.heads_per_list = lists.heads_per_list;
  a.group = group;
  long long bound = -1;  // with lengths on the device, len.n > 0 bounds them
  if (!lists.len.dev) bound = lists.len.n;
  else if (lists.len.n > 0) bound = a.bound = lists.len.n;
  return launch<Source::Listed>(a, n_heads, kv.head_dim, batch, bound, workspace, stream);
}

cudaError_t window_decode_attention(float* out, const float* q, const DeviceKV& kv, int n_heads,
                                    const SinkWindow& window, const DecodeBatch& batch, float scale, void* workspace,
                                    cudaStream_t stream) {
  if (!valid_layout(kv, n_heads) || window.budget < 1 || window.sink < 0) return cudaErrorInvalidValue;
  const int group = n_heads / kv.n_kv_heads;
  ADAMAS_DISPATCH_GROUP_BOUND(group, G, (void)G;)
  Args a = base_args(out, q, kv, scale);
  a.len_dev = window.n.dev;
  a.len = window.n.n;
  a.budget = window.budget;
  a.sink = window.sink;
  a.heads_per_list = group;
  a.group = group;
  const int bound = window.n.dev ? window.budget : std::min(window.budget, std::max(window.n.n, 0));
  return launch<Source::Window>(a, n_heads, kv.head_dim, batch, bound, workspace, stream);
}

}  // namespace adamas::cuda
