// The selftest's own checks, on the CPU: float16 rounding, the CPU layer against the plain
// reference over the whole grid, a target equal to the CPU layer (every row passes with nothing
// to show), and a target whose selection and attention are off (the rows fail and say where).
#include <omp.h>

#include <cmath>
#include <algorithm>
#include <random>
#include <set>

#include "check.h"
#include "selftest/half.h"
#include "selftest/selftest.h"
#include "selftest/target.h"

using namespace adamas;
using namespace adamas::selftest;

TEST(selftest_rounds_to_half) {
  CHECK_EQ(round_to_half(1.0f), 1.0f);
  CHECK_EQ(round_to_half(1.0f + std::ldexp(1.0f, -11)), 1.0f);  // a tie goes to the even neighbour
  CHECK_EQ(round_to_half(1.0f + 3 * std::ldexp(1.0f, -11)), 1.0f + std::ldexp(1.0f, -9));
  CHECK_EQ(round_to_half(2049.0f), 2048.0f);
  CHECK_EQ(round_to_half(-2051.0f), -2052.0f);
  CHECK_EQ(round_to_half(65504.0f), 65504.0f);
  CHECK_EQ(round_to_half(std::ldexp(1.0f, -25)), 0.0f);  // subnormals: steps of 2^-24
  CHECK_EQ(round_to_half(3 * std::ldexp(1.0f, -25)), std::ldexp(1.0f, -23));
  CHECK_EQ(round_to_half(0.1f), 0.0999755859375f);
}

namespace {

// Rows of one point with the given target.
std::vector<Row> rows_of(const Point& p, Target* target, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Row> rows;
  check_point(p, rng, target, rows);
  return rows;
}

const Row* find(const std::vector<Row>& rows, const std::string& backend, const std::string& check) {
  for (const Row& r : rows)
    if (r.backend == backend && r.check == check) return &r;
  return nullptr;
}

// The CPU layer with its selection and attention off: head 0's list loses its first position to
// another, and the first output element is 0.01 too large.
class OffLayer final : public LayerAttention {
 public:
  explicit OffLayer(std::unique_ptr<LayerAttention> inner) : LayerAttention(inner->options()), inner_(std::move(inner)) {}
  void append(const LayerKV& kv, int pos, int n) override { inner_->append(kv, pos, n); }
  void prefill_done(const LayerKV& kv) override { inner_->prefill_done(kv); }
  void estimate(const float* q, const LayerKV& kv, int n) override { inner_->estimate(q, kv, n); }
  void select(int n) override { inner_->select(n); }
  void use_selection(const Selection& sel, int n) override { inner_->use_selection(sel, n); }
  void attend(float* out, const float* q, const LayerKV& kv, int n) override {
    inner_->attend(out, q, kv, n);
    out[0] += 0.01f;
  }
  Selection selection(int n) const override {
    Selection s = inner_->selection(n);
    std::vector<int32_t>& l = s.heads[0];
    for (int32_t t = 0; t < n; ++t)
      if (!std::binary_search(l.begin(), l.end(), t)) {
        l.erase(l.begin());
        l.insert(std::lower_bound(l.begin(), l.end(), t), t);
        break;
      }
    return s;
  }
  void selected_mass(float* mass, const float* q, const LayerKV& kv, int n) override { inner_->selected_mass(mass, q, kv, n); }
  PhaseBytes bytes(int n) const override { return inner_->bytes(n); }

 private:
  std::unique_ptr<LayerAttention> inner_;
};

class OffTarget final : public Target {
 public:
  Backend backend() const override { return cpu_->backend(); }
  std::string device_name() const override { return "off"; }
  LayerKV load_kv(const std::vector<float>& k, const std::vector<float>& v, int heads, int D, int cap) override {
    return cpu_->load_kv(k, v, heads, D, cap);
  }
  const float* load_q(const std::vector<float>& q) override { return cpu_->load_q(q); }
  float* output(size_t n) override { return cpu_->output(n); }
  std::vector<float> read_output() override { return cpu_->read_output(); }
  std::unique_ptr<LayerAttention> layer(const AttentionOptions& o, int H, int KV, int D, int cap) override {
    return std::make_unique<OffLayer>(cpu_->layer(o, H, KV, D, cap));
  }
  std::unique_ptr<LayerAttention> batch_layer(const AttentionOptions&, int, int, int, const LayerKV&, int, int64_t,
                                              const std::vector<int>&) override {
    return nullptr;
  }

 private:
  std::unique_ptr<Target> cpu_ = make_cpu_target();
};

}  // namespace

TEST(selftest_grid_covers_what_it_claims) {
  const std::vector<Point> grid = layer_grid();
  bool below = false, budget1 = false, odd_page = false, per_kv = false;
  std::set<int> groups, dims;
  std::set<Method> methods;
  for (const Point& p : grid) {
    groups.insert(p.H / p.KV);
    dims.insert(p.D);
    methods.insert(p.opts.method);
    const int last = p.prefill + p.steps;
    below |= p.opts.method != Method::Full && last <= p.opts.budget && last % 2 == 1;
    budget1 |= p.opts.budget == 1;
    odd_page |= p.opts.method == Method::Quest && last % p.opts.page_size != 0 && last > p.opts.budget;
    per_kv |= p.opts.gqa == GqaSelection::PerKvHead && p.opts.method == Method::Adamas;
  }
  CHECK(below && budget1 && odd_page && per_kv);
  CHECK((groups == std::set<int>{1, 3, 4, 8}));
  CHECK((dims == std::set<int>{64, 128}));
  CHECK_EQ(methods.size(), size_t(5));
  CHECK(!batch_grid().empty());
}

TEST(selftest_target_equal_to_the_cpu_passes_exactly) {
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);  // small steps: a team costs more than it saves
  auto cpu = make_cpu_target();
  for (const Point& p : layer_grid()) {
    if (p.H / p.KV != 4 || p.D != 64) continue;
    const std::vector<Row> rows = rows_of(p, cpu.get(), 5);
    CHECK_EQ(rows.size(), size_t(7));
    for (const Row& r : rows) {
      if (r.against != "cpu layer") continue;
      CHECK(r.pass);
      CHECK_EQ(r.value, 0.0);
      CHECK(r.note.empty());
    }
  }
  omp_set_num_threads(threads);
}

TEST(selftest_target_that_is_off_fails_and_says_where) {
  OffTarget off;
  Point p;
  for (const Point& x : layer_grid())
    if (x.opts.method == Method::Adamas && x.H == 8 && x.D == 128 && x.prefill == 330) p = x;
  const std::vector<Row> rows = rows_of(p, &off, 7);
  const Row* sel = find(rows, "cpu", "selection");  // the CPU's own row passes ...
  CHECK(sel && sel->pass);
  const Row* off_sel = nullptr;
  for (const Row& r : rows)
    if (r.against == "cpu layer" && r.check == "selection") off_sel = &r;
  CHECK(off_sel && !off_sel->pass);  // ... the target's fails: one list a step
  if (off_sel) {
    CHECK_EQ(off_sel->value, 3.0);
    CHECK(off_sel->note.find("n 331, head 0") != std::string::npos);
  }
  for (const char* check : {"attention", "attention over given lists"}) {
    const Row* r = nullptr;
    for (const Row& x : rows)
      if (x.against == "cpu layer" && x.check == check) r = &x;
    CHECK(r && !r->pass);
    if (r) {
      CHECK_NEAR(r->value, 0.01, 1e-6);
      CHECK(r->note.find("head 0 element 0") != std::string::npos);
    }
  }
}

TEST(selftest_run_checks_the_cpu_layer_over_the_grid) {
  // the whole grid without CUDA: the CPU layer against the plain reference, every row passing
  Options o;
  o.seed = 3;
  o.cuda = false;
  const Result r = run_selftest(o);
  CHECK(!r.cuda_run);
  CHECK(r.cuda_reason.find("--device cpu") != std::string::npos);
  CHECK_EQ(r.seed, uint64_t(3));
  CHECK_EQ(r.rows.size(), 3 * layer_grid().size());
  double worst_attention = 0, worst_mass = 0;
  for (const Row& x : r.rows) {
    if (!x.pass) ::adamas::test::fail(__FILE__, __LINE__, x.check + " " + x.shape + " " + x.method + ": " + x.note);
    CHECK(x.backend == "cpu" && x.against == "plain reference");
    if (x.check == "selection") CHECK_EQ(x.value, 0.0);
    if (x.check == "attention") worst_attention = std::max(worst_attention, x.value);
    if (x.check == "recall mass") worst_mass = std::max(worst_mass, x.value);
  }
  std::fprintf(stderr, "  worst CPU error against double precision: attention %.3g, recall mass %.3g (%.1f s)\n",
               worst_attention, worst_mass, r.seconds);
  CHECK(clock_seed() < (uint64_t(1) << 53));
}

TEST(selftest_cuda_target_says_why_it_is_absent) {
  std::string why;
  auto t = make_cuda_target(&why);
#ifndef ADAMAS_WITH_CUDA
  CHECK(!t);
  CHECK(why.find("no CUDA backend") != std::string::npos);
#else
  if (!t) CHECK(!why.empty());
#endif
}

TEST(selftest_cuda_layer_matches_the_cpu_layer) {
  // on a machine with a CUDA device: every CUDA row of the whole grid passes
  std::string why;
  if (!make_cuda_target(&why)) {
    ::adamas::test::skip(why);
    return;
  }
  Options o;
  o.seed = 21;
  const Result r = run_selftest(o);
  CHECK(r.cuda_run);
  size_t cuda_rows = 0;
  for (const Row& x : r.rows) {
    cuda_rows += x.backend == "cuda";
    if (!x.pass) ::adamas::test::fail(__FILE__, __LINE__, x.backend + " " + x.check + " " + x.shape + " " + x.method + ": " + x.note);
  }
  CHECK(cuda_rows > 4 * layer_grid().size());
  std::fprintf(stderr, "  %zu rows on %s in %.1f s\n", r.rows.size(), r.cuda_device.c_str(), r.seconds);
}
