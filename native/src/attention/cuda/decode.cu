#include <algorithm>
#include <atomic>
#include <climits>
#include <cmath>

#include "attention/cuda/decode.h"
#include "attention/cuda/dependent_launch.cuh"
#include "attention/cuda/dispatch.cuh"
#include "attention/cuda/mma.cuh"

namespace adamas::cuda {

namespace {

constexpr int kWarps = 4;
constexpr int kThreads = 32 * kWarps;
constexpr int kTile = 16;                // positions a warp takes at a time (the k of one P V product)
constexpr int kStages = 3;               // tiles of each warp in its shared-memory ring (2 in flight while it computes)
constexpr int kMinChunk = 16 * kTile;    // positions of a chunk at least: a 256-list in one block, no merge
constexpr int kRows = 8;                 // query heads a block serves at most (rows 8..15 hold their low parts)
constexpr int kMaxSlots = 256;           // chunks of one list over a whole batch
constexpr float kLog2e = 1.4426950408889634f;

// Blocks per multiprocessor the registers are budgeted for (shared memory allows as many on sm_90).
template <int D>
constexpr int kMinBlocks = D == 64 ? 4 : 2;

// Shared memory of a block: each warp's ring of kStages tiles of K and V.
template <int D>
constexpr int ring_bytes() {
  return kWarps * kStages * 2 * kTile * D * int(sizeof(__half));
}

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
  int bound;           // positions of a sequence's list at most (longer ones are cut)
  int budget, sink;    // Window
  int batch;
  int n_lists;
  int heads_per_list;
  int group;           // query heads per KV head
  int slots;           // chunks of a list over the batch at most (the grid's y)
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

__device__ __forceinline__ int warp_sum(int x) {
#pragma unroll
  for (int off = 16; off > 0; off /= 2) x += __shfl_xor_sync(0xffffffffu, x, off);
  return x;
}

// Every warp of the block finds the same chunk. The chunk size is the smallest multiple of kTile
// (at least kMinChunk) that cuts each sequence into whole chunks (at least one, also for an empty
// one) with all of them in a.slots; the chunks are numbered sequence after sequence.
template <Source S>
__device__ Work locate(const Args& a, int slot) {
  static_assert(kMaxDecodeBatch <= 64, "two sequences per lane");
  const int lane = threadIdx.x % 32;
  int n[2], count[2];  // sequences lane and 32 + lane; count -1 past the batch
  long long total = 0;
  int most = 0;
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    const int b = 32 * i + lane;
    n[i] = b < a.batch ? length_of(a, b) : 0;
    count[i] = b < a.batch ? count_of<S>(a, n[i]) : -1;
    total += max(count[i], 0);
    most = max(most, count[i]);
  }
#pragma unroll
  for (int off = 16; off > 0; off /= 2) {
    total += __shfl_xor_sync(0xffffffffu, total, off);
    most = max(most, __shfl_xor_sync(0xffffffffu, most, off));
  }
  auto splits_of = [](int c, int tiles) { return c < 0 ? 0 : c == 0 ? 1 : (c - 1) / (tiles * kTile) + 1; };
  auto used = [&](int tiles) { return warp_sum(splits_of(count[0], tiles) + splits_of(count[1], tiles)); };
  // In tiles: lo cannot fit more than a.slots chunks; hi fits (every sequence's count rounds up
  // at most once: fewer than total / chunk + batch chunks; or one chunk per sequence).
  const int min_tiles = kMinChunk / kTile;
  const long long tiles = (total + kTile - 1) / kTile;
  const int lo = int(max((tiles + a.slots - 1) / a.slots, (long long)min_tiles));
  const int hi = int(max(min((tiles + a.slots - a.batch) / (a.slots - a.batch + 1), ((long long)most + kTile - 1) / kTile),
                         (long long)max(lo, min_tiles)));
  int l = lo, h = hi;
  while (l < h) {  // warp-uniform; no iteration for one sequence
    const int mid = (l + h) / 2;
    if (used(mid) <= a.slots) h = mid;
    else l = mid + 1;
  }
  const int chunk = h * kTile;
  Work w;
  int first = 0;
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    const int splits = splits_of(count[i], h);
    int incl = splits;
#pragma unroll
    for (int off = 1; off < 32; off *= 2) {
      const int o = __shfl_up_sync(0xffffffffu, incl, off);
      if (lane >= off) incl += o;
    }
    const int excl = first + incl - splits;
    const unsigned hit = __ballot_sync(0xffffffffu, splits > 0 && slot >= excl && slot < excl + splits);
    if (hit) {
      const int src = __ffs(hit) - 1;
      w.b = 32 * i + src;
      w.first = __shfl_sync(0xffffffffu, excl, src);
      w.splits = __shfl_sync(0xffffffffu, splits, src);
      w.count = __shfl_sync(0xffffffffu, count[i], src);
      w.n = __shfl_sync(0xffffffffu, n[i], src);
      w.split = slot - w.first;
      w.begin = w.split * chunk;
      w.end = min(w.count, w.begin + chunk);
      return w;
    }
    first += __shfl_sync(0xffffffffu, incl, 31);
  }
  return w;
}

// Position of entry t (< w.count) of a Dense or Window list.
template <Source S>
__device__ __forceinline__ int64_t position(const Args& a, const Work& w, int t) {
  if (S == Source::Dense || a.budget >= w.n) return t;
  const int s = min(a.sink, a.budget - 1);
  return t < s ? t : int64_t(w.n) - a.budget + t;
}

// Each warp streams its own tiles (tile k of a warp: positions begin + (warp + kWarps k) * kTile
// ..., 16 of them) of K and V through a ring of kStages tiles in shared memory with cp.async, kStages
// - 1 tiles ahead of the one it computes on, so no barrier of the block is on the way. The rows of a
// tile are D / 8 chunks of 16 bytes, chunk ch of row rr stored at chunk ch ^ (rr % 8) of the row
// so that ldmatrix reads 8 rows without bank conflicts. With r = lane / 4, c = lane % 4 (mma.cuh):
// S = Q K^T takes its B fragments from ldmatrix of K (rows = positions, k = channels), the query's
// A fragments hold channels 16ks + 2c, +1 (+8, +9) of head r (rows 8..15: the low parts); P V takes
// its B fragments from ldmatrix.trans of V (k = positions), output n-tile j = channels 8j .. 8j + 7.
template <int D, Source S>
__global__ void __launch_bounds__(kThreads, kMinBlocks<D>) decode_kernel(const Args a) {
  constexpr int kKSteps = D / 16;            // k-steps of S, pairs of n-tiles of P V
  constexpr int kRowChunks = D / 8;          // 16-byte chunks of a row
  constexpr int kRowsPerPass = 32 / kRowChunks;
  constexpr int kPasses = kTile / kRowsPerPass;
  constexpr int kTileElems = kTile * D;
  constexpr int kPad = 4;  // floats after each row of s_o: rows 16 bytes apart in the banks
  static_assert(kWarps * kRows * (D + kPad) * sizeof(float) <= ring_bytes<D>(), "s_o fits in the rings");
  static_assert(kRows * kMaxSlots * sizeof(float) <= ring_bytes<D>(), "merge weights fit in the rings");
  // 128-byte aligned after the static arrays: cp.async into a misaligned ring takes 4x the shared-memory
  // wavefronts and L2 requests
  extern __shared__ __align__(128) uint4 smem[];
  __shared__ float2 s_ml[kWarps][kRows];
  __shared__ float s_l[kRows];
  __shared__ bool s_last;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, r = lane / 4, c = lane % 4, tid = threadIdx.x;
  wait_for_prior_grids();  // the lists, lengths, cache and query are the stream's before this
  allow_dependent_grids();
  const int list = blockIdx.x;
  const Work w = locate<S>(a, blockIdx.y);
  if (w.b < 0) return;  // past the batch's chunks (the same for every warp)

  const int g = a.heads_per_list, h0 = list * g, kvh = h0 / a.group;
  const int64_t kv_base = w.b * a.kv_stride + kvh * a.head_stride;
  const __half* K = a.k + kv_base;
  const __half* V = a.v + kv_base;
  const float* q = a.q + w.b * a.q_stride + int64_t(h0) * D;
  float* out = a.out + w.b * a.q_stride + int64_t(h0) * D;
  const int32_t* lst = S == Source::Listed ? a.idx + w.b * a.idx_batch_stride + list * a.list_stride : nullptr;

  __half* ring = reinterpret_cast<__half*>(smem) + warp * (kStages * 2 * kTileElems);  // [stage][K, V][kTile][D]
  const int span = w.end - w.begin - warp * kTile;
  const int n_tiles = span > 0 ? (span - 1) / (kWarps * kTile) + 1 : 0;  // this warp's
  auto tile_begin = [&](int k) { return w.begin + (warp + kWarps * k) * kTile; };
  // Listed: lane holds the list entry of row lane % 16 of a tile (0 past the chunk)
  auto entry = [&](int k) {
    const int t = tile_begin(k) + lane % kTile;
    return S == Source::Listed && t < w.end ? __ldg(lst + t) : 0;
  };
  const int ch = lane % kRowChunks, row0 = lane / kRowChunks;
  auto issue = [&](int k, int stage, int listed) {  // warp-uniform
    const int tb = tile_begin(k);
    __half* dst = ring + stage * 2 * kTileElems;
#pragma unroll
    for (int i = 0; i < kPasses; ++i) {
      const int rr = row0 + kRowsPerPass * i, t = tb + rr;
      const bool ok = t < w.end;
      int64_t pos = S == Source::Listed ? int64_t(__shfl_sync(0xffffffffu, listed, rr)) : position<S>(a, w, t);
      if (!ok) pos = 0;
      const int off = rr * D + ((ch ^ (rr % 8)) * 8);
      cp_async_16(dst + off, K + pos * D + ch * 8, ok);
      cp_async_16(dst + kTileElems + off, V + pos * D + ch * 8, ok);
    }
  };

  // the query (in flight while the first tiles are requested)
  float2 qx[kKSteps][2];
#pragma unroll
  for (int kk = 0; kk < kKSteps; ++kk)
#pragma unroll
    for (int u = 0; u < 2; ++u)
      qx[kk][u] = r < g ? *reinterpret_cast<const float2*>(q + r * D + 16 * kk + 8 * u + 2 * c) : make_float2(0.0f, 0.0f);

  int next_entry = 0;  // Listed: the entries of tile k + kStages - 1 while tile k is computed
  {
    int e[kStages - 1];
#pragma unroll
    for (int k = 0; k < kStages - 1; ++k) e[k] = entry(k);
    next_entry = entry(kStages - 1);
#pragma unroll
    for (int k = 0; k < kStages - 1; ++k) {
      if (k < n_tiles) issue(k, k, e[k]);
      cp_async_commit();
    }
  }

  // A fragments of S = Q K^T: rows r = query head h0 + r (fp16), rows 8 + r its rounding error
  uint32_t qf[kKSteps][4];
#pragma unroll
  for (int kk = 0; kk < kKSteps; ++kk) {
    split_half2(qx[kk][0].x, qx[kk][0].y, qf[kk][0], qf[kk][1]);
    split_half2(qx[kk][1].x, qx[kk][1].y, qf[kk][2], qf[kk][3]);
  }

  float acc[2 * kKSteps][4];  // C fragments of P V, n-tile j
#pragma unroll
  for (int j = 0; j < 2 * kKSteps; ++j)
#pragma unroll
    for (int e = 0; e < 4; ++e) acc[j][e] = 0.0f;
  float m = -INFINITY, l = 0.0f;  // of head r: running max (quad-uniform), this lane's sum of weights

  // ldmatrix rows of this lane: matrix i = lane / 8, its row lane % 8
  const int mi = lane / 8, mr = lane % 8;
  const int k_off = (8 * (mi / 2) + mr) * D, k_chunk = mi % 2;  // K: (n-tile mi / 2, k-half mi % 2)
  const int v_off = (8 * (mi % 2) + mr) * D, v_chunk = mi / 2;  // V: (k-half mi % 2, n-tile mi / 2)
  int rd = 0, wr = kStages - 1;  // ring stages of tile k and of tile k + kStages - 1
  for (int k = 0; k < n_tiles; ++k) {
    __syncwarp();  // every lane is done with stage wr (tile k - 1)
    if (k + kStages - 1 < n_tiles) issue(k + kStages - 1, wr, next_entry);
    cp_async_commit();
    if constexpr (S == Source::Listed) next_entry = entry(k + kStages);
    cp_async_wait<kStages - 1>();
    __syncwarp();  // tile k from every lane's copies
    const __half* k_sm = ring + rd * 2 * kTileElems;
    const __half* v_sm = k_sm + kTileElems;
    const int tb = tile_begin(k);

    // S: two accumulators per 8-position n-tile (even and odd k-steps) shorten the MMA chains
    float s[2][2][4];
#pragma unroll
    for (int nt = 0; nt < 2; ++nt)
#pragma unroll
      for (int u = 0; u < 2; ++u)
#pragma unroll
        for (int e = 0; e < 4; ++e) s[nt][u][e] = 0.0f;
    // the tile's fragments of K and V, all requested before the first product needs them
    uint32_t kb[kKSteps][4], vb[kKSteps][4];
#pragma unroll
    for (int kk = 0; kk < kKSteps; ++kk) ldmatrix_x4(kb[kk], k_sm + k_off + (((2 * kk + k_chunk) ^ mr) * 8));
#pragma unroll
    for (int jj = 0; jj < kKSteps; ++jj) ldmatrix_x4_trans(vb[jj], v_sm + v_off + (((2 * jj + v_chunk) ^ mr) * 8));
#pragma unroll
    for (int kk = 0; kk < kKSteps; ++kk) {
      mma_16816(s[0][kk % 2], qf[kk], kb[kk][0], kb[kk][1]);
      mma_16816(s[1][kk % 2], qf[kk], kb[kk][2], kb[kk][3]);
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
    for (int j = 0; j < 2 * kKSteps; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[j][e] *= corr;
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
    for (int jj = 0; jj < kKSteps; ++jj) {
      mma_16816(acc[2 * jj], pa, vb[jj][0], vb[jj][1]);
      mma_16816(acc[2 * jj + 1], pa, vb[jj][2], vb[jj][3]);
    }
    rd = rd + 1 == kStages ? 0 : rd + 1;
    wr = wr + 1 == kStages ? 0 : wr + 1;
  }
  cp_async_wait<0>();  // (only empty groups are left)
  __syncthreads();     // every warp is done with its ring: s_o takes its place

  // the warps' partial results -> the block's (in shared memory)
  float (*s_o)[kRows][D + kPad] = reinterpret_cast<float (*)[kRows][D + kPad]>(smem);
  l += __shfl_xor_sync(0xffffffffu, l, 1);
  l += __shfl_xor_sync(0xffffffffu, l, 2);
  if (r < g) {
    float* o = &s_o[warp][r][0];
#pragma unroll
    for (int j = 0; j < 2 * kKSteps; ++j)
      *reinterpret_cast<float2*>(o + 8 * j + 2 * c) = make_float2(acc[j][0] + acc[j][2], acc[j][1] + acc[j][3]);
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

// Lets the kernel have its rings (once per device) and gives the blocks per multiprocessor.
template <int D, Source S>
cudaError_t prepare(int& per_sm) {
  static std::atomic<uint64_t> ready{0};  // devices where the attribute is set
  static std::atomic<int> blocks{0};
  int dev = 0;
  cudaError_t e = cudaGetDevice(&dev);
  if (e != cudaSuccess) return e;
  const uint64_t bit = dev < 64 ? uint64_t(1) << dev : 0;
  if (!(ready.load() & bit)) {
    e = cudaFuncSetAttribute(decode_kernel<D, S>, cudaFuncAttributeMaxDynamicSharedMemorySize, ring_bytes<D>());
    if (e != cudaSuccess) return e;
    ready.fetch_or(bit);
  }
  int b = blocks.load();
  if (b == 0) {
    e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&b, decode_kernel<D, S>, kThreads, ring_bytes<D>());
    if (e != cudaSuccess) return e;
    b = std::max(b, 1);
    blocks.store(b);
  }
  per_sm = b;
  return cudaSuccess;
}

// Slots (chunks) per list over a batch: the fewest whole waves of blocks over the multiprocessors
// that give every sequence a slot (one wave mostly: the blocks stream K and V at the same rate, so
// one resident wave of equal chunks finishes together), at most kMaxSlots, and no more than
// chunks of kMinChunk positions need when the host bounds the batch's positions (total < 0: no
// bound).
int slots_per_list(int n_lists, int per_sm, int batch, long long total) {
  const long long cap = (long long)sm_count() * per_sm;
  const long long waves = std::max(1ll, ((long long)n_lists * batch + cap - 1) / cap);
  long long slots = std::clamp(waves * cap / n_lists, (long long)batch, (long long)kMaxSlots);
  if (total >= 0) slots = std::min(slots, batch - 1 + std::max(1ll, (total + kMinChunk - 1) / kMinChunk));
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
    int per_sm = 1;
    const cudaError_t e = prepare<D, S>(per_sm);
    if (e != cudaSuccess) return e;
    // x = list, so the blocks with work (the low slots) come first
    a.slots = slots_per_list(a.n_lists, per_sm, batch.size, bound < 0 ? -1 : bound * batch.size);
    ADAMAS_CUDA_TRY(launch_dependent(decode_kernel<D, S>, dim3(a.n_lists, a.slots), dim3(kThreads), ring_bytes<D>(),
                                     stream, a));
  })
  return cudaSuccess;
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
