#include "selftest/selftest.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

#include <omp.h>

#include "common/error.h"
#include "selftest/half.h"
#include "selftest/reference.h"
#include "tensor/kv_cache.h"

namespace adamas::selftest {

namespace {

// Tolerances: |got - want| <= abs + rel |want| for every element.
struct Tolerance {
  double abs, rel;
  std::string text() const {
    char buf[64];
    std::snprintf(buf, sizeof buf, "|d| <= %g + %g |ref|", abs, rel);
    return buf;
  }
};
// The CPU's float32 attention against double precision (q and k of spread 8: logits up to ~60).
constexpr Tolerance kCpuAttention{1e-4, 1e-4};
// CUDA: fp16 K/V (the same values), float32 accumulation in another order.
constexpr Tolerance kCudaAttention{1e-3, 1e-3};
constexpr double kCpuMass = 1e-4, kCudaMass = 1e-4;

const char* const kExact = "0 lists differ";
const char* const kPlain = "plain reference";
const char* const kCpuLayer = "cpu layer";

AttentionOptions method(Method m, int budget, GqaSelection gqa = GqaSelection::PerQueryHead) {
  AttentionOptions o;
  o.method = m;
  o.budget = m == Method::Full ? 0 : budget;
  o.gqa = gqa;
  if (m == Method::Streaming && budget <= o.sink) o.sink = 0;
  return o;
}

std::string method_label(const AttentionOptions& o) {
  std::string s = method_name(o.method);
  if (o.method == Method::Full) return s;
  s += "@" + std::to_string(o.budget);
  if (o.method == Method::Streaming) return o.sink != AttentionOptions{}.sink ? s + " sink " + std::to_string(o.sink) : s;
  return o.gqa == GqaSelection::PerKvHead ? s + " gqa kv" : s;
}

std::string shape_label(int H, int KV, int D, const std::string& lengths) {
  return "H " + std::to_string(H) + "/KV " + std::to_string(KV) + " x D " + std::to_string(D) + ", n " + lengths;
}

// Values N(0, sd) rounded to float16.
std::vector<float> random_half(std::mt19937_64& rng, size_t n, float sd) {
  std::normal_distribution<float> dist(0.0f, sd);
  std::vector<float> v(n);
  for (float& x : v) x = round_to_half(dist(rng));
  return v;
}

// The worst of one check over the steps of a point.
struct Worst {
  double value = 0;
  bool pass = true;
  std::string note;
  void fail(const std::string& why) {
    if (pass) note = why;
    pass = false;
  }
};

template <class T>
void compare_values(Worst& w, const std::vector<float>& got, const std::vector<T>& want, const Tolerance& tol, int D,
                    const std::string& where) {
  for (size_t i = 0; i < want.size(); ++i) {
    const double g = got[i], x = double(want[i]);
    const std::string at = where + ", head " + std::to_string(i / size_t(D)) + " element " + std::to_string(i % size_t(D));
    if (!std::isfinite(g)) {
      w.value = INFINITY;
      w.fail("non-finite output at " + at);
      continue;
    }
    const double d = std::fabs(g - x);
    w.value = std::max(w.value, d);
    if (!(d <= tol.abs + tol.rel * std::fabs(x))) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "%.6g against %.6g at ", g, x);
      w.fail(buf + at);
    }
  }
}

void compare_mass(Worst& w, const std::vector<float>& got, const std::vector<double>& want, double tol,
                  const std::string& where) {
  for (size_t h = 0; h < want.size(); ++h) {
    const double d = std::isfinite(got[h]) ? std::fabs(got[h] - want[h]) : INFINITY;
    w.value = std::max(w.value, d);
    if (!(d <= tol)) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "%.6g against %.6g at ", double(got[h]), want[h]);
      w.fail(buf + where + ", head " + std::to_string(h));
    }
  }
}

// Counts the heads whose lists differ (w.value accumulates them).
void compare_selection(Worst& w, const Selection& got, const Selection& want, const std::string& where) {
  for (size_t h = 0; h < want.heads.size(); ++h) {
    const std::vector<int32_t>& a = h < got.heads.size() ? got.heads[h] : std::vector<int32_t>{};
    const std::vector<int32_t>& b = want.heads[h];
    if (a == b) continue;
    w.value += 1;
    std::vector<int32_t> only;
    std::set_symmetric_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(only));
    w.fail(where + ", head " + std::to_string(h) + ": " + std::to_string(a.size()) + " positions against " +
           std::to_string(b.size()) + ", " + std::to_string(only.size()) + " in one list only");
  }
}

Row row(const char* backend, const char* against, const char* check, const std::string& shape,
        const std::string& method, const Worst& w, const std::string& tolerance) {
  return Row{backend, against, check, shape, method, w.value, tolerance, w.pass, w.note};
}

std::string length_range(int from, int to) {
  return from == to ? std::to_string(from) : std::to_string(from) + "-" + std::to_string(to);
}

}  // namespace

std::vector<Point> layer_grid() {
  struct Lengths {
    int budget, prefill, steps;
    bool full;  // also full attention at these lengths
  };
  // odd lengths below the budget (dense steps); budget 1; lengths that are no multiple of the
  // page (16) at a budget of 4 pages; a budget that is no multiple of the page
  const Lengths lengths[] = {{64, 38, 3, true}, {1, 98, 3, false}, {64, 330, 3, true}, {100, 700, 2, false}};
  std::vector<Point> grid;
  for (int group : {1, 3, 4, 8})
    for (int D : {64, 128}) {
      const int KV = group == 1 ? 4 : 2, H = group * KV;
      for (const Lengths& l : lengths) {
        std::vector<AttentionOptions> ms;
        if (l.full) ms.push_back(method(Method::Full, 0));
        ms.push_back(method(Method::Streaming, l.budget));
        std::vector<GqaSelection> gqas = {GqaSelection::PerQueryHead};
        if (group > 1) gqas.push_back(GqaSelection::PerKvHead);
        for (GqaSelection g : gqas) {
          if (l.budget >= AttentionOptions{}.page_size) ms.push_back(method(Method::Quest, l.budget, g));
          ms.push_back(method(Method::Adamas, l.budget, g));
          ms.push_back(method(Method::Oracle, l.budget, g));
        }
        for (const AttentionOptions& o : ms) grid.push_back(Point{o, H, KV, D, l.prefill, l.steps});
      }
    }
  return grid;
}

std::vector<BatchPoint> batch_grid() {
  std::vector<BatchPoint> grid;
  struct Shape {
    int H, KV, D;
  };
  for (const Shape& s : {Shape{16, 4, 128}, Shape{6, 2, 64}})
    for (GqaSelection g : {GqaSelection::PerQueryHead, GqaSelection::PerKvHead})
      for (Method m : {Method::Full, Method::Streaming, Method::Quest, Method::Adamas, Method::Oracle}) {
        if (g == GqaSelection::PerKvHead && (m == Method::Full || m == Method::Streaming)) continue;
        grid.push_back(BatchPoint{method(m, 64, g), s.H, s.KV, s.D, {1001, 333, 700}});
      }
  return grid;
}

void check_point(const Point& p, std::mt19937_64& rng, Target* target, std::vector<Row>& rows) {
  AttentionOptions o = p.opts;
  validate(o, p.D, o.skip_layers);
  const int H = p.H, KV = p.KV, D = p.D, cap = p.prefill + p.steps;
  const std::vector<float> k = random_half(rng, size_t(KV) * cap * D, 8.0f), v = random_half(rng, k.size(), 1.0f);
  const LayerKV hkv{k.data(), v.data(), int64_t(cap) * D, KV, D};
  auto view = [&](int n) { return KVView{k.data(), v.data(), KV, D, int64_t(cap) * D, n}; };
  auto cpu = make_layer_attention(Backend::Cpu, o, H, KV, D, cap);
  LayerKV tkv;
  std::unique_ptr<LayerAttention> tgt, replay;
  if (target) {
    tkv = target->load_kv(k, v, KV, D, cap);
    tgt = target->layer(o, H, KV, D, cap);
    replay = target->layer(o, H, KV, D, cap);
  }
  std::uniform_int_distribution<int> chunk(1, 300);
  for (int pos = 0; pos < p.prefill;) {
    const int len = std::min(chunk(rng), p.prefill - pos);
    cpu->append(hkv, pos, len);
    if (target) {
      tgt->append(tkv, pos, len);
      replay->append(tkv, pos, len);
    }
    pos += len;
  }
  cpu->prefill_done(hkv);
  if (target) {
    tgt->prefill_done(tkv);
    replay->prefill_done(tkv);
  }
  Worst c_sel, c_out, c_mass, t_sel, t_out, t_given, t_mass;
  std::vector<float> out(size_t(H) * D), mass(static_cast<size_t>(H));
  for (int n = p.prefill + 1; n <= cap; ++n) {
    const std::string at = "n " + std::to_string(n);
    cpu->append(hkv, n - 1, 1);
    const std::vector<float> q = random_half(rng, size_t(H) * D, 8.0f);
    const Selection want = reference_selection(o, q.data(), view(n), H, n);
    cpu->estimate(q.data(), hkv, n);
    cpu->select(n);
    const Selection cs = cpu->selection(n);
    compare_selection(c_sel, cs, want, at);
    std::fill(out.begin(), out.end(), std::numeric_limits<float>::quiet_NaN());
    cpu->attend(out.data(), q.data(), hkv, n);
    const std::vector<float> cpu_out = out;
    compare_values(c_out, cpu_out, reference_attention(q.data(), view(n), H, cs), kCpuAttention, D, at);
    cpu->selected_mass(mass.data(), q.data(), hkv, n);
    const std::vector<float> cpu_mass = mass;
    compare_mass(c_mass, cpu_mass, reference_mass(q.data(), view(n), H, n, cs), kCpuMass, at);
    if (!target) continue;

    tgt->append(tkv, n - 1, 1);
    replay->append(tkv, n - 1, 1);
    const float* tq = target->load_q(q);
    tgt->step(target->output(out.size()), tq, tkv, n);
    compare_values(t_out, target->read_output(), cpu_out, kCudaAttention, D, at);
    compare_selection(t_sel, tgt->selection(n), cs, at);
    tgt->selected_mass(mass.data(), tq, tkv, n);
    std::vector<double> cpu_mass_d(cpu_mass.begin(), cpu_mass.end());
    compare_mass(t_mass, mass, cpu_mass_d, kCudaMass, at);
    replay->use_selection(cs, n);
    replay->attend(target->output(out.size()), tq, tkv, n);
    compare_values(t_given, target->read_output(), cpu_out, kCudaAttention, D, at);
  }
  const std::string shape = shape_label(H, KV, D, length_range(p.prefill + 1, cap)), m = method_label(o);
  char mass_tol[32];
  std::snprintf(mass_tol, sizeof mass_tol, "|d| <= %g", kCpuMass);
  rows.push_back(row("cpu", kPlain, "selection", shape, m, c_sel, kExact));
  rows.push_back(row("cpu", kPlain, "attention", shape, m, c_out, kCpuAttention.text()));
  rows.push_back(row("cpu", kPlain, "recall mass", shape, m, c_mass, mass_tol));
  if (!target) return;
  std::snprintf(mass_tol, sizeof mass_tol, "|d| <= %g", kCudaMass);
  const char* b = backend_name(target->backend());
  rows.push_back(row(b, kCpuLayer, "selection", shape, m, t_sel, kExact));
  rows.push_back(row(b, kCpuLayer, "attention", shape, m, t_out, kCudaAttention.text()));
  rows.push_back(row(b, kCpuLayer, "attention over given lists", shape, m, t_given, kCudaAttention.text()));
  rows.push_back(row(b, kCpuLayer, "recall mass", shape, m, t_mass, mass_tol));
}

void check_batch(const BatchPoint& p, std::mt19937_64& rng, Target& target, std::vector<Row>& rows) {
  AttentionOptions o = p.opts;
  validate(o, p.D, o.skip_layers);
  const int H = p.H, KV = p.KV, D = p.D, S = int(p.lengths.size());
  const int cap = *std::max_element(p.lengths.begin(), p.lengths.end());
  const int shortest = *std::min_element(p.lengths.begin(), p.lengths.end());
  const int64_t stride = int64_t(KV) * cap * D;  // sequence b: KV heads b * KV ..
  const std::vector<float> k = random_half(rng, size_t(S) * stride, 8.0f), v = random_half(rng, k.size(), 1.0f);
  LayerKV tkv = target.load_kv(k, v, S * KV, D, cap);
  tkv.n_kv_heads = KV;
  auto layer = target.batch_layer(o, H, KV, D, tkv, cap, stride, p.lengths);
  if (!layer) return;
  const std::vector<float> q = random_half(rng, size_t(S) * H * D, 8.0f);
  // the host's length only has to be as sparse as every sequence's
  layer->step(target.output(q.size()), target.load_q(q), tkv, shortest);
  const std::vector<float> got = target.read_output();
  Worst w;
  std::string lengths;
  for (int b = 0; b < S; ++b) {
    const int n = p.lengths[size_t(b)];
    lengths += (b ? "/" : "") + std::to_string(n);
    const LayerKV hkv{k.data() + size_t(b) * stride, v.data() + size_t(b) * stride, int64_t(cap) * D, KV, D};
    auto cpu = make_layer_attention(Backend::Cpu, o, H, KV, D, cap);
    cpu->append(hkv, 0, n);
    cpu->prefill_done(hkv);
    const float* qb = q.data() + size_t(b) * H * D;
    std::vector<float> ref(size_t(H) * D);
    cpu->step(ref.data(), qb, hkv, n);
    const std::vector<float> mine(got.begin() + ptrdiff_t(b) * H * D, got.begin() + ptrdiff_t(b + 1) * H * D);
    compare_values(w, mine, ref, kCudaAttention, D, "sequence " + std::to_string(b) + " (n " + std::to_string(n) + ")");
  }
  rows.push_back(row(backend_name(target.backend()), kCpuLayer, "attention, batch of 3", shape_label(H, KV, D, lengths),
                     method_label(o), w, kCudaAttention.text()));
}

uint64_t clock_seed() {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::system_clock::now().time_since_epoch()).count();
  return uint64_t(ns) & ((uint64_t(1) << 53) - 1);
}

namespace {

// The CPU layers' steps here are small: one thread runs them faster than a team that has to
// wake up for each (on a loaded machine, ten times faster). Restored for the caller's thread.
class OneThread {
 public:
  OneThread() : before_(omp_get_max_threads()) { omp_set_num_threads(1); }
  ~OneThread() { omp_set_num_threads(before_); }
  OneThread(const OneThread&) = delete;
  OneThread& operator=(const OneThread&) = delete;

 private:
  int before_;
};

}  // namespace

Result run_selftest(const Options& opts) {
  const auto t0 = std::chrono::steady_clock::now();
  const OneThread one_thread;
  Result r;
  r.seed = opts.seed;
  std::mt19937_64 rng(opts.seed);
  std::unique_ptr<Target> target;
  if (opts.cuda) {
    target = make_cuda_target(&r.cuda_reason);
    if (target) r.cuda_device = target->device_name();
  } else {
    r.cuda_reason = "not asked for (--device cpu)";
  }
  r.cuda_run = target != nullptr;
  // A CUDA error may leave the device unusable to this process: the CUDA checks stop at the first
  // one (a failing row says where), the CPU's go on.
  auto stop_cuda = [&](const std::string& where, const std::exception& e) {
    r.rows.push_back(Row{backend_name(target->backend()), kCpuLayer, "error", where, "", INFINITY, "no error", false,
                         e.what()});
    r.cuda_reason = std::string("stopped after an error: ") + e.what();
    target.reset();
  };
  for (const Point& p : layer_grid()) {
    try {
      check_point(p, rng, target.get(), r.rows);
    } catch (const std::exception& e) {
      const std::string where = shape_label(p.H, p.KV, p.D, length_range(p.prefill + 1, p.prefill + p.steps)) +
                                ", " + method_label(p.opts);
      if (!target) throw;  // the CPU's own checks: a bug of the selftest, not a finding
      stop_cuda(where, e);
      check_point(p, rng, nullptr, r.rows);
    }
  }
  for (const BatchPoint& p : batch_grid()) {
    if (!target) break;
    try {
      check_batch(p, rng, *target, r.rows);
    } catch (const std::exception& e) {
      stop_cuda("batch of " + std::to_string(p.lengths.size()) + ", " + method_label(p.opts), e);
    }
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace adamas::selftest
