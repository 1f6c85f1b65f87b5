// CUDA decode attention (dense split-K, over position lists, over StreamingLLM's window) against
// cpu::attend_decode on the same fp16 K/V: MHA and GQA groups 1..8, head_dim 64 and 128, lengths
// from 0 to 32K, batches of sequences of different lengths given from the host or from device
// memory, host bounds on the lengths of lists, and repeated launches on one workspace.
#include <algorithm>
#include <functional>

#include "attention/cpu/attend.h"
#include "attention/cuda/decode.h"
#include "cuda_util.h"

using namespace adamas;
using namespace adamas::test;

namespace {

// out[H][D] from the CPU over lists (list_of(h) -> positions), or everything when lists is empty.
std::vector<float> cpu_attention(const TestKV& kv, const std::vector<float>& q, int H, int n,
                                 const std::function<const std::vector<int32_t>*(int)>& list_of) {
  const int D = kv.D, group = H / kv.KV;
  const float scale = 1.0f / std::sqrt(float(D));
  std::vector<float> out(size_t(H) * D), scratch(static_cast<size_t>(n));
  for (int h = 0; h < H; ++h) {
    const std::vector<int32_t>* l = list_of ? list_of(h) : nullptr;
    if (l) scratch.resize(l->size());
    cpu::attend_decode(&out[size_t(h) * D], &q[size_t(h) * D], kv.view(n), h / group, l ? l->data() : nullptr,
                       l ? int(l->size()) : n, scale, scratch.data());
  }
  return out;
}

struct Shape {
  int H, KV, D;
};

// StreamingLLM's positions of a sequence of length n (DESIGN.md "Methods").
std::vector<int32_t> window_positions(int n, int budget, int sink) {
  std::vector<int32_t> p;
  const int s = std::min(sink, budget - 1);
  for (int t = 0; t < n; ++t)
    if (budget >= n || t < s || t >= n - (budget - s)) p.push_back(t);
  return p;
}

// A batch of sequences: sequence b's KV heads are heads b * KV .. b * KV + KV - 1 of one TestKV.
struct Batch {
  Shape s;
  int size, cap;
  TestKV kv;
  std::vector<float> q;  // [size][H][D]
  Batch(std::mt19937& rng, Shape sh, int n_seq, int capacity)
      : s(sh), size(n_seq), cap(capacity), kv(rng, n_seq * sh.KV, sh.D, capacity),
        q(random_floats(rng, size_t(n_seq) * sh.H * sh.D, 1.0f)) {}
  cuda::DeviceKV device() const { return cuda::DeviceKV{kv.dk.get(), kv.dv.get(), int64_t(cap) * s.D, s.KV, s.D}; }
  cuda::DecodeBatch layout() const {
    return cuda::DecodeBatch{size, int64_t(s.H) * s.D, int64_t(s.KV) * cap * s.D};
  }
  // out of sequence b's heads over list_of(h) (null: [0, n)); zeros for n == 0
  void reference(float* out, int b, int n, const std::function<const std::vector<int32_t>*(int)>& list_of) const {
    const int D = s.D, group = s.H / s.KV;
    std::vector<float> scratch(size_t(std::max(n, 1)));
    for (int h = 0; h < s.H; ++h) {
      const std::vector<int32_t>* l = list_of ? list_of(h) : nullptr;
      float* o = out + size_t(h) * D;
      const int len = l ? int(l->size()) : n;
      if (len == 0) {
        std::fill(o, o + D, 0.0f);
        continue;
      }
      scratch.resize(size_t(len));
      cpu::attend_decode(o, &q[(size_t(b) * s.H + h) * D], kv.view(cap), b * s.KV + h / group, l ? l->data() : nullptr,
                         len, 1.0f / std::sqrt(float(D)), scratch.data());
    }
  }
};

}  // namespace

TEST(cuda_dense_decode_matches_cpu) {
  if (!have_cuda_device()) return;
  std::mt19937 rng(11);
  const Shape shapes[] = {{32, 32, 128}, {8, 8, 64}, {12, 4, 64}, {9, 3, 64}, {16, 2, 128}, {24, 3, 128}, {6, 3, 128}};
  for (const Shape& s : shapes)
    for (int n : {1, 7, 100, 1000, 4099}) {
      TestKV kv(rng, s.KV, s.D, n + 5);
      const std::vector<float> q = random_floats(rng, size_t(s.H) * s.D, 1.0f);
      cuda::DeviceArray<float> dq(q), dout(q.size());
      cuda::DeviceArray<uint8_t> ws(cuda::decode_workspace_bytes(s.H, s.D));
      ws.fill_bytes(0);
      dout.fill_bytes(0xff);
      ADAMAS_CUDA_CHECK(cuda::decode_attention(dout.get(), dq.get(), kv.device(), s.H, n,
                                               1.0f / std::sqrt(float(s.D)), ws.get(), nullptr));
      SYNC_CHECK();
      CHECK_REL(dout.download(), cpu_attention(kv, q, s.H, n, nullptr), 1e-3, shape_name(s.H, s.KV, s.D, n));
    }
}

TEST(cuda_dense_decode_32k_gqa) {
  if (!have_cuda_device()) return;
  std::mt19937 rng(12);
  for (const Shape& s : {Shape{32, 8, 128}, Shape{32, 4, 64}}) {
    const int n = 32768;
    TestKV kv(rng, s.KV, s.D, n);
    const std::vector<float> q = random_floats(rng, size_t(s.H) * s.D, 1.0f);
    cuda::DeviceArray<float> dq(q), dout(q.size());
    cuda::DeviceArray<uint8_t> ws(cuda::decode_workspace_bytes(s.H, s.D));
    ws.fill_bytes(0);
    dout.fill_bytes(0xff);
    ADAMAS_CUDA_CHECK(cuda::decode_attention(dout.get(), dq.get(), kv.device(), s.H, n, 1.0f / std::sqrt(float(s.D)),
                                             ws.get(), nullptr));
    SYNC_CHECK();
    CHECK_REL(dout.download(), cpu_attention(kv, q, s.H, n, nullptr), 1e-3, shape_name(s.H, s.KV, s.D, n));
  }
}

TEST(cuda_sparse_decode_matches_cpu) {
  if (!have_cuda_device()) return;
  std::mt19937 rng(13);
  const Shape shapes[] = {{8, 8, 128}, {12, 4, 64}, {16, 2, 128}, {6, 2, 64}};
  for (const Shape& s : shapes)
    for (int n_idx : {1, 5, 256, 1000, 3000})
      for (int mode = 0; mode < 3; ++mode) {  // a list per query head, per KV head, one shared
        const int group = s.H / s.KV, n = n_idx + 1500;
        const int per_list = mode == 0 ? 1 : group, lists = mode == 2 ? 1 : s.H / per_list;
        TestKV kv(rng, s.KV, s.D, n);
        std::vector<std::vector<int32_t>> l(static_cast<size_t>(lists));
        std::vector<int32_t> flat;
        for (std::vector<int32_t>& li : l) {
          li = random_positions(rng, n, n_idx);
          flat.insert(flat.end(), li.begin(), li.end());
        }
        const std::vector<float> q = random_floats(rng, size_t(s.H) * s.D, 1.0f);
        cuda::DeviceArray<float> dq(q), dout(q.size());
        cuda::DeviceArray<int32_t> didx(flat);
        cuda::DeviceArray<uint8_t> ws(cuda::decode_workspace_bytes(s.H, s.D));
        ws.fill_bytes(0);
        dout.fill_bytes(0xff);
        ADAMAS_CUDA_CHECK(cuda::sparse_decode_attention(dout.get(), dq.get(), kv.device(), s.H, didx.get(),
                                                        mode == 2 ? 0 : n_idx, n_idx, per_list,
                                                        1.0f / std::sqrt(float(s.D)), ws.get(), nullptr));
        SYNC_CHECK();
        const std::vector<float> want =
            cpu_attention(kv, q, s.H, n, [&](int h) { return &l[mode == 2 ? 0 : h / per_list]; });
        CHECK_REL(dout.download(), want, 1e-3,
                  shape_name(s.H, s.KV, s.D, n) + ", lists of " + std::to_string(n_idx) + ", mode " +
                      std::to_string(mode));
      }
}

TEST(cuda_decode_rejects_unsupported_shapes) {
  if (!have_cuda_device()) return;
  cuda::DeviceKV kv{nullptr, nullptr, 0, 2, 96};
  CHECK_THROWS_WITH(cuda::decode_attention(nullptr, nullptr, kv, 4, 10, 1.0f, nullptr, nullptr), "head_dim 96");
  kv.head_dim = 64;
  kv.n_kv_heads = 1;
  CHECK_THROWS_WITH(cuda::decode_attention(nullptr, nullptr, kv, 16, 10, 1.0f, nullptr, nullptr),
                    "GQA group size (query heads per KV head) 16");
}

TEST(cuda_batched_dense_decode_matches_cpu) {
  if (!have_cuda_device()) return;
  std::mt19937 rng(14);
  for (const Shape& s : {Shape{32, 32, 128}, Shape{32, 8, 128}, Shape{9, 3, 64}, Shape{8, 1, 64}}) {
    const std::vector<int> lens = {777, 1, 4099, 0, 2500, 64, 65};
    const int B = int(lens.size()), cap = 4100;
    Batch batch(rng, s, B, cap);
    cuda::DeviceArray<float> dq(batch.q), dout(batch.q.size()), dout2(batch.q.size());
    cuda::DeviceArray<int> dlens(lens);
    cuda::DeviceArray<uint8_t> ws(cuda::decode_workspace_bytes(s.H, s.D));
    ws.fill_bytes(0);
    std::vector<float> want(batch.q.size());
    for (int b = 0; b < B; ++b) batch.reference(&want[size_t(b) * s.H * s.D], b, lens[b], nullptr);
    const float scale = 1.0f / std::sqrt(float(s.D));
    // lengths from device memory
    dout.fill_bytes(0xff);
    ADAMAS_CUDA_CHECK(cuda::decode_attention(dout.get(), dq.get(), batch.device(), s.H, cuda::SeqLengths{dlens.get(), 0},
                                             batch.layout(), scale, ws.get(), nullptr));
    SYNC_CHECK();
    const std::vector<float> got = dout.download();
    CHECK_REL(got, want, 1e-3, "batch of 7, " + shape_name(s.H, s.KV, s.D, cap));
    // every sequence at one host length: each equals the single-sequence launch bit for bit
    for (int n : {1, 3000}) {
      dout2.fill_bytes(0xff);
      ADAMAS_CUDA_CHECK(cuda::decode_attention(dout2.get(), dq.get(), batch.device(), s.H, cuda::SeqLengths{nullptr, n},
                                               batch.layout(), scale, ws.get(), nullptr));
      SYNC_CHECK();
      const std::vector<float> all = dout2.download();
      std::vector<float> one(size_t(s.H) * s.D), ref(one.size());
      for (int b = 0; b < B; b += 3) {
        batch.reference(ref.data(), b, n, nullptr);
        CHECK_REL(std::vector<float>(all.begin() + size_t(b) * s.H * s.D, all.begin() + size_t(b + 1) * s.H * s.D), ref,
                  1e-3, "batch at length " + std::to_string(n) + ", sequence " + std::to_string(b));
      }
    }
  }
}

namespace {

// Lists of lens[b] random positions per sequence b (their lengths in device memory, `stride`
// entries apart), a list per per_list query heads, against the CPU over the same lists; a bound
// > 0 is passed as len.n and cuts longer lists to it. Each launch runs `reps` times on one
// workspace (its counters reset for the next).
void check_batched_lists(std::mt19937& rng, const Shape& s, int per_list, const std::vector<int>& lens, int cap,
                         int stride, int bound, int reps, const std::string& what) {
  const int B = int(lens.size()), lists = s.H / per_list;
  Batch batch(rng, s, B, cap);
  std::vector<std::vector<std::vector<int32_t>>> l(static_cast<size_t>(B));
  std::vector<int32_t> flat(size_t(B) * lists * stride, 0);
  for (int b = 0; b < B; ++b)
    for (int li = 0; li < lists; ++li) {
      std::vector<int32_t> all = random_positions(rng, cap, lens[b]);
      std::copy(all.begin(), all.end(), flat.begin() + (size_t(b) * lists + li) * stride);
      if (bound > 0 && lens[b] > bound) all.resize(size_t(bound));
      l[size_t(b)].push_back(all);
    }
  cuda::DeviceArray<float> dq(batch.q), dout(batch.q.size());
  cuda::DeviceArray<int32_t> didx(flat);
  cuda::DeviceArray<int> dlens(lens);
  cuda::DeviceArray<uint8_t> ws(cuda::decode_workspace_bytes(s.H, s.D));
  ws.fill_bytes(0);
  std::vector<float> want(batch.q.size());
  for (int b = 0; b < B; ++b)
    batch.reference(&want[size_t(b) * s.H * s.D], b, cap, [&](int h) { return &l[size_t(b)][size_t(h / per_list)]; });
  const cuda::PositionLists pl{didx.get(), stride, int64_t(lists) * stride, cuda::SeqLengths{dlens.get(), bound},
                               per_list};
  for (int rep = 0; rep < reps; ++rep) {
    dout.fill_bytes(0xff);
    ADAMAS_CUDA_CHECK(cuda::sparse_decode_attention(dout.get(), dq.get(), batch.device(), s.H, pl, batch.layout(),
                                                    1.0f / std::sqrt(float(s.D)), ws.get(), nullptr));
    SYNC_CHECK();
    CHECK_REL(dout.download(), want, 1e-3,
              what + ", " + shape_name(s.H, s.KV, s.D, cap) + ", heads per list " + std::to_string(per_list));
  }
}

}  // namespace

TEST(cuda_batched_sparse_decode_matches_cpu) {
  // lists of different lengths per sequence (from device memory), per query head and per KV head
  if (!have_cuda_device()) return;
  std::mt19937 rng(15);
  for (const Shape& s : {Shape{8, 8, 128}, Shape{12, 4, 64}, Shape{32, 8, 128}})
    for (int per_list : {1, s.H / s.KV})
      check_batched_lists(rng, s, per_list, {256, 1, 37, 300}, 2000, 300, 0, 1, "batched lists");
}

TEST(cuda_window_decode_matches_cpu) {
  // StreamingLLM's positions computed in the kernel, against the CPU over the listed positions
  if (!have_cuda_device()) return;
  std::mt19937 rng(16);
  for (const Shape& s : {Shape{8, 8, 128}, Shape{12, 4, 64}, Shape{32, 8, 128}})
    for (int budget : {1, 3, 256, 2000})
      for (int sink : {0, 4, 10}) {
        const std::vector<int> lens = {1000, 3, 257, 1999};
        const int B = int(lens.size()), cap = 2000;
        Batch batch(rng, s, B, cap);
        cuda::DeviceArray<float> dq(batch.q), dout(batch.q.size());
        cuda::DeviceArray<int> dlens(lens);
        cuda::DeviceArray<uint8_t> ws(cuda::decode_workspace_bytes(s.H, s.D));
        ws.fill_bytes(0);
        dout.fill_bytes(0xff);
        ADAMAS_CUDA_CHECK(cuda::window_decode_attention(dout.get(), dq.get(), batch.device(), s.H,
                                                        cuda::SinkWindow{budget, sink, cuda::SeqLengths{dlens.get(), 0}},
                                                        batch.layout(), 1.0f / std::sqrt(float(s.D)), ws.get(), nullptr));
        SYNC_CHECK();
        std::vector<float> want(batch.q.size());
        for (int b = 0; b < B; ++b) {
          const std::vector<int32_t> pos = window_positions(lens[b], budget, sink);
          batch.reference(&want[size_t(b) * s.H * s.D], b, lens[b], [&](int) { return &pos; });
        }
        CHECK_REL(dout.download(), want, 1e-3,
                  "window B " + std::to_string(budget) + " sink " + std::to_string(sink) + ", " +
                      shape_name(s.H, s.KV, s.D, cap));
      }
}

TEST(cuda_dense_decode_long_odd_lengths) {
  // lengths that are no multiple of a tile, a chunk or a ring of tiles; GQA 1, 3, 4 and 8; batch
  // 1 and 5 (lengths from the host and from device memory), each launch twice (the workspace's
  // counters must be reset by the first)
  if (!have_cuda_device()) return;
  std::mt19937 rng(17);
  struct Case {
    Shape s;
    std::vector<int> lens;
  };
  const Case cases[] = {{{32, 32, 128}, {8229}},          {{32, 8, 128}, {32805}},
                        {{24, 8, 64}, {20011}},           {{64, 8, 128}, {12345}},
                        {{32, 8, 128}, {1, 4097, 33, 9001, 64}}, {{24, 8, 64}, {777, 1, 16, 17, 5000}}};
  for (const Case& cs : cases) {
    const Shape& s = cs.s;
    const int B = int(cs.lens.size()), cap = *std::max_element(cs.lens.begin(), cs.lens.end());
    Batch batch(rng, s, B, cap);
    cuda::DeviceArray<float> dq(batch.q), dout(batch.q.size());
    cuda::DeviceArray<int> dlens(cs.lens);
    cuda::DeviceArray<uint8_t> ws(cuda::decode_workspace_bytes(s.H, s.D));
    ws.fill_bytes(0);
    std::vector<float> want(batch.q.size());
    for (int b = 0; b < B; ++b) batch.reference(&want[size_t(b) * s.H * s.D], b, cs.lens[b], nullptr);
    const float scale = 1.0f / std::sqrt(float(s.D));
    for (int from_host = 0; from_host < 2; ++from_host) {
      if (from_host && B > 1) continue;  // one host length is for every sequence
      const cuda::SeqLengths len = from_host ? cuda::SeqLengths{nullptr, cs.lens[0]} : cuda::SeqLengths{dlens.get(), 0};
      for (int rep = 0; rep < 2; ++rep) {
        dout.fill_bytes(0xff);
        ADAMAS_CUDA_CHECK(
            cuda::decode_attention(dout.get(), dq.get(), batch.device(), s.H, len, batch.layout(), scale, ws.get(), nullptr));
        SYNC_CHECK();
        CHECK_REL(dout.download(), want, 1e-3,
                  "dense, batch of " + std::to_string(B) + ", " + shape_name(s.H, s.KV, s.D, cap) +
                      (from_host ? ", host length" : ", device lengths") + ", launch " + std::to_string(rep));
      }
    }
  }
}

TEST(cuda_window_decode_host_lengths) {
  // the grid bounded by the budget and a host length: lengths below, at and above the budget
  if (!have_cuda_device()) return;
  std::mt19937 rng(18);
  for (const Shape& s : {Shape{32, 32, 128}, Shape{24, 8, 64}, Shape{64, 8, 128}})
    for (int n : {1, 100, 255, 256, 257, 8192 + 3})
      for (int B : {1, 3}) {
        const int budget = 256, sink = 4, cap = n;
        Batch batch(rng, s, B, cap);
        cuda::DeviceArray<float> dq(batch.q), dout(batch.q.size());
        cuda::DeviceArray<uint8_t> ws(cuda::decode_workspace_bytes(s.H, s.D));
        ws.fill_bytes(0);
        std::vector<float> want(batch.q.size());
        const std::vector<int32_t> pos = window_positions(n, budget, sink);
        for (int b = 0; b < B; ++b) batch.reference(&want[size_t(b) * s.H * s.D], b, n, [&](int) { return &pos; });
        for (int rep = 0; rep < 2; ++rep) {
          dout.fill_bytes(0xff);
          ADAMAS_CUDA_CHECK(cuda::window_decode_attention(dout.get(), dq.get(), batch.device(), s.H,
                                                          cuda::SinkWindow{budget, sink, cuda::SeqLengths{nullptr, n}},
                                                          batch.layout(), 1.0f / std::sqrt(float(s.D)), ws.get(), nullptr));
          SYNC_CHECK();
          CHECK_REL(dout.download(), want, 1e-3,
                    "window at host length, batch " + std::to_string(B) + ", " + shape_name(s.H, s.KV, s.D, n));
        }
      }
}

TEST(cuda_sparse_decode_bounded_lists) {
  // lists of 1, odd and 256 positions with lengths in device memory: without a bound, with one
  // (len.n, sizing the grid), and with a bound below some lengths (the lists are cut to it);
  // GQA 3 and 8, a list per query head and per KV head
  if (!have_cuda_device()) return;
  std::mt19937 rng(19);
  for (const Shape& s : {Shape{24, 8, 64}, Shape{64, 8, 128}, Shape{32, 32, 128}})
    for (int per_list : {1, s.H / s.KV})
      for (int bound : {0, 257, 256, 37})
        check_batched_lists(rng, s, per_list, {256, 1, 37, 255, 257}, 3000, 257, bound, 2,
                            "bounded lists (" + std::to_string(bound) + ")");
}

TEST(cuda_sparse_decode_host_lengths_gqa) {
  // one list length from the host (1, odd, 256, long) shared by every sequence of a batch of 2
  if (!have_cuda_device()) return;
  std::mt19937 rng(20);
  for (const Shape& s : {Shape{24, 8, 64}, Shape{64, 8, 128}})
    for (int n_idx : {1, 31, 256, 4097}) {
      const int per_list = s.H / s.KV, lists = s.H / per_list, B = 2, cap = n_idx + 700;
      Batch batch(rng, s, B, cap);
      std::vector<std::vector<std::vector<int32_t>>> l(static_cast<size_t>(B));
      std::vector<int32_t> flat;
      for (int b = 0; b < B; ++b)
        for (int li = 0; li < lists; ++li) {
          const std::vector<int32_t> all = random_positions(rng, cap, n_idx);
          flat.insert(flat.end(), all.begin(), all.end());
          l[size_t(b)].push_back(all);
        }
      cuda::DeviceArray<float> dq(batch.q), dout(batch.q.size());
      cuda::DeviceArray<int32_t> didx(flat);
      cuda::DeviceArray<uint8_t> ws(cuda::decode_workspace_bytes(s.H, s.D));
      ws.fill_bytes(0);
      dout.fill_bytes(0xff);
      const cuda::PositionLists pl{didx.get(), n_idx, int64_t(lists) * n_idx, cuda::SeqLengths{nullptr, n_idx}, per_list};
      ADAMAS_CUDA_CHECK(cuda::sparse_decode_attention(dout.get(), dq.get(), batch.device(), s.H, pl, batch.layout(),
                                                      1.0f / std::sqrt(float(s.D)), ws.get(), nullptr));
      SYNC_CHECK();
      std::vector<float> want(batch.q.size());
      for (int b = 0; b < B; ++b)
        batch.reference(&want[size_t(b) * s.H * s.D], b, cap, [&](int h) { return &l[size_t(b)][size_t(h / per_list)]; });
      CHECK_REL(dout.download(), want, 1e-3,
                "host-length lists of " + std::to_string(n_idx) + ", " + shape_name(s.H, s.KV, s.D, cap));
    }
}
