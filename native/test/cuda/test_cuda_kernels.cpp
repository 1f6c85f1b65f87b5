// The selection kernels against the CPU building blocks on the same inputs, bit for bit: Adamas
// codes, distances and the cuts read off their histograms, the multi-block compaction; Quest page
// bounds, page scores and the radix top-k; the oracle's scores and top-k. Sizes are awkward on
// purpose, ties are plentiful; batches of sequences of different lengths (from device memory).
#include <algorithm>
#include <cstring>

#include "attention/cpu/codes.h"
#include "attention/cpu/hadamard.h"
#include "attention/cpu/quest.h"
#include "attention/cpu/topk.h"
#include "attention/cuda/adamas.h"
#include "attention/cuda/oracle.h"
#include "attention/cuda/quest.h"
#include "attention/cuda/topk.h"
#include "cuda_util.h"

using namespace adamas;
using namespace adamas::test;

namespace {

// The CPU code of x[D].
std::vector<uint8_t> cpu_code(const float* x, int D, const cuda::AdamasCodes& c) {
  std::vector<float> y(x, x + D);
  if (c.hadamard) cpu::hadamard_transform(y.data(), D);
  std::vector<uint8_t> code(size_t(cpu::code_bytes(D, 2)));
  cpu::encode(code.data(), y.data(), D, 2, c.thresholds);
  return code;
}

// The cut of the k smallest of v (counts of each value in `bins` bins), as adamas_distances
// reads it off the histogram.
cuda::AdamasCut cpu_cut(const std::vector<int32_t>& counts, int k) {
  if (k <= 0) return cuda::AdamasCut{-1, 0, 0, 0};
  int acc = 0;
  for (int b = 0; b < int(counts.size()); ++b) {
    if (acc + counts[size_t(b)] >= k) return cuda::AdamasCut{b, acc, counts[size_t(b)] - (k - acc), 0};
    acc += counts[size_t(b)];
  }
  return cuda::AdamasCut{-2, 0, 0, 0};  // k > count: never asked
}

bool same_cut(const cuda::AdamasCut& a, const cuda::AdamasCut& b) {
  return a.cut == b.cut && a.better == b.better && a.skip == b.skip;
}

cuda::AdamasCodes codes_params(bool hadamard, bool custom) {
  cuda::AdamasCodes c;
  c.hadamard = hadamard;
  if (custom) c.thresholds[0] = -1.5f, c.thresholds[1] = 0.25f, c.thresholds[2] = 3.0f;
  return c;
}

}  // namespace

TEST(cuda_adamas_codes_match_cpu) {
  if (!have_cuda_device()) return;
  std::mt19937 rng(21);
  for (int D : {64, 128})
    for (bool hadamard : {true, false})
      for (bool custom : {false, true}) {
        const cuda::AdamasCodes c = codes_params(hadamard, custom);
        const int KV = 3, cap = 37, pos = 5, n = 29, bytes = D / 4;
        TestKV kv(rng, KV, D, cap, custom ? 2.0f : 8.0f);
        if (!hadamard)  // values on the thresholds go to the lower bucket
          for (int i = 0; i < 3 * D; ++i) kv.k.host[size_t(pos) * D + i] = c.thresholds[i % 3];
        for (size_t i = 0; i < kv.k.host.size(); ++i) kv.k.dev[i] = __float2half_rn(kv.k.host[i]);
        kv.dk.upload(kv.k.dev);
        cuda::DeviceArray<uint8_t> codes(size_t(KV) * cap * bytes);
        codes.fill_bytes(0xab);
        ADAMAS_CUDA_CHECK(cuda::adamas_encode_keys(codes.get(), int64_t(cap) * bytes, kv.device(), pos, n, c, nullptr));
        SYNC_CHECK();
        const std::vector<uint8_t> got = codes.download();
        bool ok = true;
        for (int kvh = 0; kvh < KV; ++kvh)
          for (int t = 0; t < cap; ++t) {
            const uint8_t* g = &got[(size_t(kvh) * cap + t) * bytes];
            if (t >= pos && t < pos + n) {
              ok = ok && cpu_code(kv.view(cap).key(kvh, t), D, c) == std::vector<uint8_t>(g, g + bytes);
            } else {
              ok = ok && std::all_of(g, g + bytes, [](uint8_t b) { return b == 0xab; });  // untouched
            }
          }
        CHECK(ok);

        const int H = 7;
        const std::vector<float> q = random_floats(rng, size_t(H) * D, custom ? 2.0f : 8.0f);
        cuda::DeviceArray<float> dq(q);
        cuda::DeviceArray<uint8_t> qcodes(size_t(H) * bytes);
        qcodes.fill_bytes(0xab);
        ADAMAS_CUDA_CHECK(cuda::adamas_encode_queries(qcodes.get(), dq.get(), H, D, c, nullptr));
        SYNC_CHECK();
        const std::vector<uint8_t> qgot = qcodes.download();
        for (int h = 0; h < H; ++h)
          CHECK(cpu_code(&q[size_t(h) * D], D, c) ==
                std::vector<uint8_t>(&qgot[size_t(h) * bytes], &qgot[size_t(h + 1) * bytes]));
      }
}

TEST(cuda_adamas_distances_match_cpu) {
  // Distances bit for bit, the cut of the k smallest read off each ranker's histogram, and the
  // histograms and counters left zeroed, over batches of sequences of different lengths.
  if (!have_cuda_device()) return;
  std::mt19937 rng(22);
  for (int D : {64, 128})
    for (Distance metric : {Distance::L1, Distance::L2})
      for (int group : {1, 3, 4, 8})
        for (bool per_kv : {false, true}) {
          const std::vector<int> lens = {2, 101, 1030, 5001, 4097};  // the current token included
          const int n_seq = int(lens.size()), cap = 5003;
          const cuda::AdamasCodes c = codes_params(group != 3, false);
          const int KV = 2, H = KV * group, bytes = D / 4, rankers = per_kv ? KV : H;
          TestKV kv(rng, n_seq * KV, D, cap);  // sequence b: KV heads b * KV ..
          const std::vector<float> q = random_floats(rng, size_t(n_seq) * H * D, 8.0f);
          cuda::DeviceArray<float> dq(q);
          cuda::DeviceArray<uint8_t> codes(size_t(n_seq) * KV * cap * bytes);
          cuda::DeviceKV seq_kv = kv.device();  // one sequence's KV heads; the batch strides reach the others
          seq_kv.n_kv_heads = KV;
          ADAMAS_CUDA_CHECK(cuda::adamas_encode_keys(codes.get(), int64_t(cap) * bytes, seq_kv, 0, cap, c, nullptr,
                                                     nullptr, n_seq, int64_t(KV) * cap * D, int64_t(KV) * cap * bytes));
          const int64_t stride = (cap + 7) / 8 * 8;
          const int bins = cuda::adamas_distance_bins(D, metric, per_kv ? group : 1);
          cuda::DeviceArray<uint16_t> dist(size_t(n_seq) * rankers * stride);
          cuda::DeviceArray<int32_t> hist(size_t(n_seq) * rankers * bins);
          cuda::DeviceArray<int> done(size_t(n_seq) * KV);
          cuda::DeviceArray<cuda::AdamasCut> cuts(size_t(n_seq) * rankers);
          cuda::DeviceArray<int> dlens(lens);
          dist.fill_bytes(0xff);
          hist.fill_bytes(0);
          done.fill_bytes(0);
          for (int k : {0, 1, 50}) {
            cuts.fill_bytes(0xff);
            ADAMAS_CUDA_CHECK(cuda::adamas_distances(
                dist.get(), stride, cuda::AdamasScratch{hist.get(), done.get(), cuts.get()}, dq.get(), codes.get(),
                int64_t(cap) * bytes, H, KV, D, cuda::SeqLengths{dlens.get(), 0}, cap, k, per_kv, metric, c,
                cuda::AdamasBatch{n_seq, int64_t(H) * D, int64_t(KV) * cap * bytes, rankers * stride}, nullptr));
            SYNC_CHECK();
            const std::vector<uint16_t> gd = dist.download();
            const std::vector<cuda::AdamasCut> gc = cuts.download();
            bool ok = true, cut_ok = true;
            for (int b = 0; b < n_seq; ++b) {
              const int n_past = lens[size_t(b)] - 1;
              for (int r = 0; r < rankers; ++r) {
                const int kvh = b * KV + (per_kv ? r : r / group);
                const int h0 = per_kv ? r * group : r, h1 = per_kv ? h0 + group : r + 1;
                std::vector<uint8_t> keys;
                for (int t = 0; t < n_past; ++t) {
                  const std::vector<uint8_t> kc = cpu_code(kv.view(cap).key(kvh, t), D, c);
                  keys.insert(keys.end(), kc.begin(), kc.end());
                }
                std::vector<int32_t> want(static_cast<size_t>(n_past));
                for (int h = h0; h < h1; ++h)
                  cpu::code_distances(want.data(), cpu_code(&q[(size_t(b) * H + h) * D], D, c).data(), keys.data(),
                                      n_past, D, 2, metric, h > h0);
                std::vector<int32_t> counts(size_t(bins), 0);
                const size_t row = (size_t(b) * rankers + r) * stride;
                for (int t = 0; t < n_past; ++t) {
                  ok = ok && gd[row + t] == want[size_t(t)];
                  ++counts[size_t(want[size_t(t)])];
                }
                if (k <= n_past) cut_ok = cut_ok && same_cut(gc[size_t(b) * rankers + r], cpu_cut(counts, k));
              }
            }
            const std::vector<int32_t> gh = hist.download();
            const std::vector<int> gdone = done.download();
            CHECK(std::all_of(gh.begin(), gh.end(), [](int32_t x) { return x == 0; }));
            CHECK(std::all_of(gdone.begin(), gdone.end(), [](int x) { return x == 0; }));
            if (!ok || !cut_ok)
              fail(__FILE__, __LINE__,
                   std::string(ok ? "cuts" : "distances") + " differ: D " + std::to_string(D) + ", group " +
                       std::to_string(group) + ", per_kv " + std::to_string(per_kv) + ", k " + std::to_string(k) + ", " +
                       (metric == Distance::L2 ? "L2" : "L1"));
          }
        }
}

TEST(cuda_adamas_l1_is_exact_for_codes_1_and_2) {
  if (!have_cuda_device()) return;
  // without the transform, -5 -> code 1 and 5 -> code 2: exact L1 is 1 per element (the seed's
  // kernel says 3)
  const int D = 128;
  cuda::AdamasCodes c;
  c.hadamard = false;
  std::vector<__half> k(size_t(D), __float2half_rn(5.0f));
  std::vector<float> q(size_t(D), -5.0f);
  cuda::DeviceArray<__half> dk(k);
  cuda::DeviceArray<float> dq(q);
  cuda::DeviceArray<uint8_t> codes(size_t(D / 4));
  const cuda::DeviceKV kv{dk.get(), dk.get(), D, 1, D};
  ADAMAS_CUDA_CHECK(cuda::adamas_encode_keys(codes.get(), D / 4, kv, 0, 1, c, nullptr));
  cuda::DeviceArray<uint16_t> dist(8);
  cuda::DeviceArray<int32_t> hist(size_t(cuda::adamas_distance_bins(D, Distance::L2, 1)));  // L2's is larger
  cuda::DeviceArray<int> done(1);
  cuda::DeviceArray<cuda::AdamasCut> cut(1);
  hist.fill_bytes(0);
  done.fill_bytes(0);
  for (Distance m : {Distance::L1, Distance::L2}) {
    ADAMAS_CUDA_CHECK(cuda::adamas_distances(dist.get(), 8, cuda::AdamasScratch{hist.get(), done.get(), cut.get()},
                                             dq.get(), codes.get(), D / 4, 1, 1, D, cuda::SeqLengths{nullptr, 2}, 2, 1,
                                             false, m, c, cuda::AdamasBatch{}, nullptr));
    SYNC_CHECK();
    CHECK_EQ(int(dist.download()[0]), D);
    CHECK_EQ(cut.download()[0].cut, D);
  }
}

namespace {

// adamas_select over `rankers` rows a sequence of random distances in [lo, lo + range) (a range
// of 1 or 5: ties at the cut everywhere) against cpu::smallest_k, with the cuts computed here from
// the distances; each k runs twice and the scratch must be left zeroed for the next launch.
void check_adamas_select(std::mt19937& rng, const std::vector<int>& lens, int rankers, int cap, int bins, int lo,
                         int range, const std::vector<int>& ks) {
  const int n_seq = int(lens.size());
  const int64_t stride = (cap + 7) / 8 * 8;
  std::uniform_int_distribution<int> pick(lo, lo + range - 1);
  std::vector<uint16_t> dist(size_t(n_seq) * rankers * stride, 0);
  std::vector<std::vector<int32_t>> counts(size_t(n_seq) * rankers, std::vector<int32_t>(size_t(bins), 0));
  for (int b = 0; b < n_seq; ++b)
    for (int r = 0; r < rankers; ++r)
      for (int t = 0; t < lens[size_t(b)] - 1; ++t) {
        uint16_t& d = dist[(size_t(b) * rankers + r) * stride + t];
        d = uint16_t(pick(rng));
        ++counts[size_t(b) * rankers + r][d];
      }
  cuda::DeviceArray<uint16_t> ddist(dist);
  cuda::DeviceArray<int> dlens(lens);
  cuda::DeviceArray<uint8_t> scratch(cuda::adamas_select_scratch_bytes(rankers, cap, n_seq));
  scratch.fill_bytes(0);
  for (int k : ks) {
    std::vector<cuda::AdamasCut> cuts;
    for (const std::vector<int32_t>& c : counts) cuts.push_back(cpu_cut(c, k));
    cuda::DeviceArray<cuda::AdamasCut> dcuts(cuts);
    cuda::DeviceArray<int32_t> idx(size_t(n_seq) * rankers * (k + 1));
    for (int rep = 0; rep < 2; ++rep) {
      idx.fill_bytes(0xff);
      ADAMAS_CUDA_CHECK(cuda::adamas_select(idx.get(), k + 1, int64_t(rankers) * (k + 1), ddist.get(), stride,
                                            rankers * stride, dcuts.get(), scratch.get(), rankers,
                                            cuda::SeqLengths{dlens.get(), 0}, cap, n_seq, k, nullptr));
      SYNC_CHECK();
      const std::vector<int32_t> got = idx.download();
      bool ok = true;
      for (int b = 0; b < n_seq; ++b) {
        const int n_past = lens[size_t(b)] - 1;
        if (k > n_past) continue;  // a selection never asks for more than the past
        for (int r = 0; r < rankers; ++r) {
          const size_t row = (size_t(b) * rankers + r) * stride;
          std::vector<int32_t> v(dist.begin() + row, dist.begin() + row + n_past), want(size_t(k) + 1), tmp;
          cpu::smallest_k(want.data(), v.data(), n_past, k, tmp);
          want[size_t(k)] = n_past;
          ok = ok && std::equal(want.begin(), want.end(), &got[(size_t(b) * rankers + r) * (k + 1)]);
        }
      }
      if (!ok)
        fail(__FILE__, __LINE__,
             "adamas top-k differs: rankers " + std::to_string(rankers) + ", k " + std::to_string(k) + ", range " +
                 std::to_string(range) + ", run " + std::to_string(rep));
    }
  }
  const std::vector<uint8_t> left = scratch.download();
  CHECK(std::all_of(left.begin(), left.end(), [](uint8_t x) { return x == 0; }));
}

}  // namespace

TEST(cuda_adamas_select_matches_cpu) {
  // The compaction over several blocks a row, one batch of sequences of different lengths.
  if (!have_cuda_device()) return;
  std::mt19937 rng(23);
  for (int range : {1, 5, 300})  // lengths with the current token included
    check_adamas_select(rng, {2, 3, 18, 1001, 40001, 70000}, 5, 70000, 384 + 1, 40, range, {0, 1, 17, 500, 1000});
}

TEST(cuda_adamas_long_rows_distances_then_select_match_cpu) {
  // Distances, cuts and the selection end to end on rows long enough that a block of the
  // distance pass walks many tiles and a row's compaction spans many segments: random codes (or
  // 3 distinct ones: ties at the cut everywhere), batches of 5 lengths, GQA 1/3/4/8, per KV head,
  // k = 1 and 255 (each run twice: the scratch is left zeroed).
  if (!have_cuda_device()) return;
  std::mt19937 rng(26);
  struct Shape {
    int D, group, KV;
    bool per_kv;
    Distance metric;
  };
  const Shape shapes[] = {{128, 1, 8, false, Distance::L1}, {128, 3, 2, true, Distance::L2},
                          {64, 8, 2, false, Distance::L1},  {128, 8, 1, true, Distance::L2},
                          {64, 4, 4, false, Distance::L2}};
  const std::vector<int> lens = {1, 258, 40001, 12346, 33334};  // the current token included
  const int n_seq = int(lens.size()), cap = 40001;
  for (const Shape& sh : shapes)
    for (int distinct : {0, 3}) {
      const int D = sh.D, KV = sh.KV, H = KV * sh.group, bytes = D / 4, rankers = sh.per_kv ? KV : H;
      const cuda::AdamasCodes c = codes_params(true, false);
      std::vector<uint8_t> codes(size_t(n_seq) * KV * cap * bytes);
      std::uniform_int_distribution<int> byte(0, 255);
      if (distinct) {
        std::vector<uint8_t> pool(size_t(distinct) * bytes);
        for (uint8_t& x : pool) x = uint8_t(byte(rng));
        for (size_t t = 0; t < codes.size() / bytes; ++t) {
          const size_t from = size_t(rng() % distinct) * bytes;
          std::copy(&pool[from], &pool[from] + bytes, &codes[t * bytes]);
        }
      } else {
        for (uint8_t& x : codes) x = uint8_t(byte(rng));
      }
      const std::vector<float> q = random_floats(rng, size_t(n_seq) * H * D, 8.0f);
      cuda::DeviceArray<float> dq(q);
      cuda::DeviceArray<uint8_t> dcodes(codes);
      const int64_t stride = (cap + 7) / 8 * 8;
      const int bins = cuda::adamas_distance_bins(D, sh.metric, sh.per_kv ? sh.group : 1);
      cuda::DeviceArray<uint16_t> dist(size_t(n_seq) * rankers * stride);
      cuda::DeviceArray<int32_t> hist(size_t(n_seq) * rankers * bins);
      cuda::DeviceArray<int> done(size_t(n_seq) * KV), dlens(lens);
      cuda::DeviceArray<cuda::AdamasCut> cuts(size_t(n_seq) * rankers);
      cuda::DeviceArray<uint8_t> scratch(cuda::adamas_select_scratch_bytes(rankers, cap, n_seq));
      hist.fill_bytes(0);
      done.fill_bytes(0);
      scratch.fill_bytes(0);

      // the CPU's distances of every row
      std::vector<std::vector<int32_t>> want(size_t(n_seq) * rankers);
      for (int b = 0; b < n_seq; ++b)
        for (int r = 0; r < rankers; ++r) {
          const int n_past = lens[size_t(b)] - 1, kvh = sh.per_kv ? r : r / sh.group;
          const int h0 = sh.per_kv ? r * sh.group : r, h1 = sh.per_kv ? h0 + sh.group : r + 1;
          std::vector<int32_t>& w = want[size_t(b) * rankers + r];
          w.assign(size_t(n_past), 0);
          const uint8_t* keys = &codes[(size_t(b) * KV + kvh) * cap * bytes];
          for (int h = h0; h < h1; ++h)
            cpu::code_distances(w.data(), cpu_code(&q[(size_t(b) * H + h) * D], D, c).data(), keys, n_past, D, 2,
                                sh.metric, h > h0);
        }
      for (int k : {1, 255})
        for (int rep = 0; rep < 2; ++rep) {
          cuda::DeviceArray<int32_t> idx(size_t(n_seq) * rankers * (k + 1));
          idx.fill_bytes(0xff);
          cuts.fill_bytes(0xff);
          ADAMAS_CUDA_CHECK(cuda::adamas_distances(
              dist.get(), stride, cuda::AdamasScratch{hist.get(), done.get(), cuts.get()}, dq.get(), dcodes.get(),
              int64_t(cap) * bytes, H, KV, D, cuda::SeqLengths{dlens.get(), 0}, cap, k, sh.per_kv, sh.metric, c,
              cuda::AdamasBatch{n_seq, int64_t(H) * D, int64_t(KV) * cap * bytes, rankers * stride}, nullptr));
          ADAMAS_CUDA_CHECK(cuda::adamas_select(idx.get(), k + 1, int64_t(rankers) * (k + 1), dist.get(), stride,
                                                rankers * stride, cuts.get(), scratch.get(), rankers,
                                                cuda::SeqLengths{dlens.get(), 0}, cap, n_seq, k, nullptr));
          SYNC_CHECK();
          const std::vector<uint16_t> gd = dist.download();
          const std::vector<cuda::AdamasCut> gc = cuts.download();
          const std::vector<int32_t> got = idx.download();
          bool dist_ok = true, cut_ok = true, sel_ok = true;
          for (int b = 0; b < n_seq; ++b)
            for (int r = 0; r < rankers; ++r) {
              const int n_past = lens[size_t(b)] - 1;
              const std::vector<int32_t>& w = want[size_t(b) * rankers + r];
              const size_t row = (size_t(b) * rankers + r) * stride;
              std::vector<int32_t> counts(size_t(bins), 0);
              for (int t = 0; t < n_past; ++t) {
                dist_ok = dist_ok && gd[row + t] == w[size_t(t)];
                ++counts[size_t(w[size_t(t)])];
              }
              if (k > n_past) continue;  // a selection never asks for more than the past
              cut_ok = cut_ok && same_cut(gc[size_t(b) * rankers + r], cpu_cut(counts, k));
              std::vector<int32_t> sel(size_t(k) + 1), tmp;
              cpu::smallest_k(sel.data(), w.data(), n_past, k, tmp);
              sel[size_t(k)] = n_past;
              sel_ok = sel_ok && std::equal(sel.begin(), sel.end(), &got[(size_t(b) * rankers + r) * (k + 1)]);
            }
          if (!dist_ok || !cut_ok || !sel_ok)
            fail(__FILE__, __LINE__,
                 std::string(!dist_ok ? "distances" : !cut_ok ? "cuts" : "selection") + " differ: D " +
                     std::to_string(D) + ", group " + std::to_string(sh.group) + ", per_kv " +
                     std::to_string(sh.per_kv) + ", distinct " + std::to_string(distinct) + ", k " + std::to_string(k) +
                     ", run " + std::to_string(rep));
        }
      const std::vector<int32_t> gh = hist.download();
      const std::vector<int> gdone = done.download();
      const std::vector<uint8_t> left = scratch.download();
      CHECK(std::all_of(gh.begin(), gh.end(), [](int32_t x) { return x == 0; }));
      CHECK(std::all_of(gdone.begin(), gdone.end(), [](int x) { return x == 0; }));
      CHECK(std::all_of(left.begin(), left.end(), [](uint8_t x) { return x == 0; }));
    }
}

TEST(cuda_adamas_select_one_long_row_and_more_rows_than_a_wave) {
  // One row of 300000 past tokens (37 segments of 8192: the look-back over more than a warp's
  // width), then 576 rows of batch 12 (more blocks than one wave holds), ties plentiful.
  if (!have_cuda_device()) return;
  std::mt19937 rng(27);
  struct Case {
    int rankers;
    std::vector<int> lens;
  };
  std::vector<int> many(12);
  for (int& n : many) n = 2 + int(rng() % 19999);
  many[0] = 20000;
  const Case cases[] = {{1, {300001}}, {48, many}};
  for (const Case& cs : cases)
    for (int range : {1, 5, 300})
      check_adamas_select(rng, cs.lens, cs.rankers, *std::max_element(cs.lens.begin(), cs.lens.end()), 400, 7, range,
                          {1, 17, 255});
}

TEST(cuda_quest_scores_of_a_batch_match_cpu) {
  // Page scores over several tiles of pages (the last one partial) for a batch of sequences of
  // different lengths read from device memory, bounds straight from random fp16 values.
  if (!have_cuda_device()) return;
  std::mt19937 rng(28);
  const std::vector<int> lens = {1, 17, 2000, 5001, 3333};  // the current token included
  const int n_seq = int(lens.size()), P = 16, cap = 5001, KV = 2;
  const int page_cap = cuda::quest_page_capacity(cap, P);
  cuda::DeviceArray<int> dlens(lens);
  for (int D : {64, 128})
    for (int group : {1, 3, 8})
      for (bool per_kv : {false, true}) {
        const int H = KV * group, rankers = per_kv ? KV : H;
        const int64_t bstride = int64_t(KV) * D * page_cap, sstride = page_cap;
        const HalfValues mx = random_half(rng, size_t(n_seq) * bstride, 1.0f), mn = random_half(rng, mx.dev.size(), 1.0f);
        const std::vector<float> q = random_floats(rng, size_t(n_seq) * H * D, 1.0f);
        cuda::DeviceArray<__half> dmax(mx.dev), dmin(mn.dev);
        cuda::DeviceArray<float> dq(q), scores(size_t(n_seq) * rankers * sstride);
        scores.fill_bytes(0xff);
        ADAMAS_CUDA_CHECK(cuda::quest_page_scores(scores.get(), sstride, dq.get(), dmax.get(), dmin.get(), page_cap, H,
                                                  KV, D, cuda::SeqLengths{dlens.get(), 0}, cap, P, per_kv,
                                                  cuda::QuestBatch{n_seq, int64_t(H) * D, bstride, rankers * sstride},
                                                  nullptr));
        SYNC_CHECK();
        const std::vector<float> got = scores.download();
        bool same = true;
        std::vector<float> pmax(static_cast<size_t>(D)), pmin(static_cast<size_t>(D));
        for (int b = 0; b < n_seq; ++b)
          for (int r = 0; r < rankers; ++r) {
            const int kvh = per_kv ? r : r / group, h0 = per_kv ? r * group : r, h1 = per_kv ? h0 + group : r + 1;
            for (int p = 0; p < (lens[size_t(b)] - 1) / P; ++p) {
              for (int d = 0; d < D; ++d) {
                const size_t at = size_t(b) * bstride + (size_t(kvh) * D + d) * page_cap + p;
                pmax[size_t(d)] = mx.host[at];
                pmin[size_t(d)] = mn.host[at];
              }
              float s = 0.0f;
              for (int h = h0; h < h1; ++h)
                s += cpu::page_upper_bound(&q[(size_t(b) * H + h) * D], pmax.data(), pmin.data(), D);
              same = same && std::memcmp(&s, &got[(size_t(b) * rankers + r) * sstride + p], sizeof s) == 0;
            }
          }
        if (!same)
          fail(__FILE__, __LINE__,
               "quest batch scores differ: D " + std::to_string(D) + ", group " + std::to_string(group) +
                   ", per_kv " + std::to_string(per_kv));
      }
}

TEST(cuda_quest_bounds_and_scores_match_cpu) {
  if (!have_cuda_device()) return;
  std::mt19937 rng(24);
  for (int D : {64, 128})
    for (int P : {16, 5, 1}) {
      const int KV = 2, cap = 300, page_cap = cuda::quest_page_capacity(cap, P);
      TestKV kv(rng, KV, D, cap, 1.0f);
      cuda::DeviceArray<__half> pmax(size_t(KV) * D * page_cap), pmin(pmax.size());
      cpu::PageBounds want(KV, D, P);
      // a prefill, single tokens across page ends, a larger chunk
      std::vector<std::pair<int, int>> appends = {{0, 37}};
      for (int t = 37; t < 60; ++t) appends.push_back({t, 1});
      appends.push_back({60, 50});
      for (auto [pos, n] : appends) {
        ADAMAS_CUDA_CHECK(cuda::quest_update_bounds(pmax.get(), pmin.get(), page_cap, kv.device(), P, pos, n, nullptr));
        want.append(kv.view(pos + n), pos, n);
      }
      SYNC_CHECK();
      const std::vector<__half> gmax = pmax.download(), gmin = pmin.download();
      bool ok = true;
      for (int kvh = 0; kvh < KV; ++kvh)
        for (int p = 0; p < want.pages(); ++p)
          for (int d = 0; d < D; ++d) {
            const size_t at = (size_t(kvh) * D + d) * page_cap + p;
            ok = ok && __half2float(gmax[at]) == want.max(kvh, p)[d] && __half2float(gmin[at]) == want.min(kvh, p)[d];
          }
      CHECK(ok);

      const int n_pages = (110 - 1) / P;
      for (int group : {1, 3, 4, 8})
        for (bool per_kv : {false, true}) {
          const int H = KV * group, rankers = per_kv ? KV : H;
          const std::vector<float> q = random_floats(rng, size_t(H) * D, 1.0f);
          cuda::DeviceArray<float> dq(q), scores(size_t(rankers) * page_cap);
          scores.fill_bytes(0xff);
          ADAMAS_CUDA_CHECK(cuda::quest_page_scores(scores.get(), page_cap, dq.get(), pmax.get(), pmin.get(), page_cap, H,
                                                    KV, D, n_pages, per_kv, nullptr));
          SYNC_CHECK();
          const std::vector<float> got = scores.download();
          bool same = true;
          for (int r = 0; r < rankers; ++r) {
            const int kvh = per_kv ? r : r / group, h0 = per_kv ? r * group : r, h1 = per_kv ? h0 + group : r + 1;
            for (int p = 0; p < n_pages; ++p) {
              float s = 0.0f;
              for (int h = h0; h < h1; ++h) s += cpu::page_upper_bound(&q[size_t(h) * D], want.max(kvh, p), want.min(kvh, p), D);
              same = same && std::memcmp(&s, &got[size_t(r) * page_cap + p], sizeof s) == 0;  // bit for bit
            }
          }
          if (!same)
            fail(__FILE__, __LINE__,
                 "quest scores differ: D " + std::to_string(D) + ", P " + std::to_string(P) + ", group " +
                     std::to_string(group) + ", per_kv " + std::to_string(per_kv));
        }
    }
}

TEST(cuda_quest_select_matches_cpu) {
  if (!have_cuda_device()) return;
  std::mt19937 rng(25);
  for (int n_pages : {1, 3, 100, 2048, 13000})
    for (int P : {16, 3})
      for (int distinct : {2, 50, 0}) {  // 0: continuous scores
        const int rankers = 3, r_extra = 1 + int(rng() % P), n = n_pages * P + r_extra;
        std::normal_distribution<float> dist(0.0f, 10.0f);
        std::vector<float> scores(size_t(rankers) * n_pages);
        for (float& s : scores) s = distinct ? float(int(rng() % distinct)) - distinct / 2 : dist(rng);
        if (n_pages > 10) {  // NaN ranks as -inf; -0 ties with +0
          scores[3] = NAN;
          scores[4] = -0.0f;
          scores[5] = 0.0f;
          scores[6] = -INFINITY;
        }
        cuda::DeviceArray<float> dscores(scores);
        cuda::DeviceArray<int> dlen(1);
        for (int k : {0, 1, n_pages / 2, n_pages}) {
          const int len = k * P + r_extra;
          cuda::DeviceArray<int32_t> idx(size_t(rankers) * len);
          idx.fill_bytes(0xff);
          ADAMAS_CUDA_CHECK(cuda::quest_select(idx.get(), len, 0, dscores.get(), n_pages, 0, rankers,
                                               cuda::SeqLengths{nullptr, n}, n, k, P, dlen.get(), 1, nullptr));
          SYNC_CHECK();
          const std::vector<int32_t> got = idx.download();
          bool ok = dlen.download()[0] == len;
          for (int r = 0; r < rankers; ++r) {
            std::vector<int32_t> picks(static_cast<size_t>(k)), scratch, want;
            cpu::largest_k(picks.data(), &scores[size_t(r) * n_pages], n_pages, k, scratch);
            for (int32_t p : picks)
              for (int t = p * P; t < (p + 1) * P; ++t) want.push_back(t);
            for (int t = n_pages * P; t < n; ++t) want.push_back(t);
            ok = ok && std::equal(want.begin(), want.end(), &got[size_t(r) * len]);
          }
          if (!ok)
            fail(__FILE__, __LINE__,
                 "quest top-k differs: pages " + std::to_string(n_pages) + ", k " + std::to_string(k) + ", P " +
                     std::to_string(P) + ", distinct " + std::to_string(distinct));
        }
      }
}

TEST(cuda_oracle_scores_and_select_match_cpu) {
  // Scores bit for bit against the definition (an fp32 fma chain over d, the group's heads added
  // in order), then the top-k of those scores against cpu::largest_k, with plentiful ties.
  if (!have_cuda_device()) return;
  std::mt19937 rng(31);
  for (int D : {64, 128})
    for (int group : {1, 3, 8})
      for (bool per_kv : {false, true})
        for (int n_past : {1, 37, 1000, 40000}) {
          const int KV = 2, H = KV * group, rankers = per_kv ? KV : H, cap = n_past + 3;
          const int64_t stride = (n_past + 3) / 4 * 4;
          TestKV kv(rng, KV, D, cap, 1.0f);
          if (n_past == 1000)  // few distinct keys: many equal scores
            for (int t = 0; t < cap; ++t)
              for (int kvh = 0; kvh < KV; ++kvh)
                for (int d = 0; d < D; ++d)
                  kv.k.host[(size_t(kvh) * cap + t) * D + d] = kv.k.host[(size_t(kvh) * cap + t % 5) * D + d];
          for (size_t i = 0; i < kv.k.host.size(); ++i) kv.k.dev[i] = __float2half_rn(kv.k.host[i]);
          kv.dk.upload(kv.k.dev);
          const std::vector<float> q = random_floats(rng, size_t(H) * D, 1.0f);
          cuda::DeviceArray<float> dq(q), scores(size_t(rankers) * stride);
          scores.fill_bytes(0xff);
          ADAMAS_CUDA_CHECK(cuda::oracle_scores(scores.get(), stride, dq.get(), kv.device(), H, n_past, per_kv, nullptr));
          SYNC_CHECK();
          const std::vector<float> got = scores.download();
          bool same = true;
          std::vector<std::vector<float>> want(static_cast<size_t>(rankers), std::vector<float>(size_t(n_past)));
          for (int r = 0; r < rankers; ++r) {
            const int h0 = per_kv ? r * group : r, h1 = per_kv ? h0 + group : r + 1, kvh = h0 / group;
            for (int t = 0; t < n_past; ++t) {
              float total = 0.0f;
              for (int h = h0; h < h1; ++h) {
                float s = 0.0f;
                for (int d = 0; d < D; ++d) s = std::fma(q[size_t(h) * D + d], kv.view(cap).key(kvh, t)[d], s);
                total = h == h0 ? s : total + s;
              }
              want[r][t] = total;
              same = same && std::memcmp(&total, &got[size_t(r) * stride + t], sizeof(float)) == 0;
            }
          }
          if (!same) fail(__FILE__, __LINE__, "oracle scores differ: " + shape_name(H, KV, D, n_past + 1));

          for (int k : {0, 1, n_past / 2, n_past}) {
            cuda::DeviceArray<int32_t> idx(size_t(rankers) * (k + 1));
            idx.fill_bytes(0xff);
            ADAMAS_CUDA_CHECK(cuda::oracle_select(idx.get(), k + 1, 0, scores.get(), stride, 0, rankers,
                                                  cuda::SeqLengths{nullptr, n_past + 1}, k, 1, nullptr));
            SYNC_CHECK();
            const std::vector<int32_t> sel = idx.download();
            for (int r = 0; r < rankers; ++r) {
              std::vector<int32_t> ref(size_t(k) + 1), scratch;
              cpu::largest_k(ref.data(), want[r].data(), n_past, k, scratch);
              ref[k] = n_past;
              if (!std::equal(ref.begin(), ref.end(), sel.begin() + size_t(r) * (k + 1))) {
                fail(__FILE__, __LINE__, "oracle top-" + std::to_string(k) + " differs: " + shape_name(H, KV, D, n_past + 1));
                break;
              }
            }
          }
        }
}
