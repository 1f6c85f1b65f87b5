// The engine with every attention method on tiny synthetic Llama models (random weights, written
// as GGUF by the test), so the sparse decode path runs end to end without a real model file:
// budgets covering the whole sequence give full attention bit for bit; selections have the sizes
// and contents the definitions say; larger budgets select supersets; chunked prefills, truncation
// and long decodes keep the selectors in step with the cache; a run replayed from its recorded
// selections gives the same logits bit for bit.
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "check.h"
#include "engine_util.h"
#include "gguf_writer.h"
#include "model/engine.h"
#include "tiny_model.h"

using namespace adamas;
using adamas::test::method;
using adamas::test::random_tokens;
using adamas::test::step_logits;
using adamas::test::TempFile;
using adamas::test::tiny_model;
using adamas::test::TinyShape;

namespace {

// GQA 4:2 with head_dim 32, and 3:1 with head_dim 64.
const TinyShape kShapes[] = {{"llama GQA 4:2 D32", 3, 64, 4, 2, 32, 96, 101, "llama", ""},
                             {"llama GQA 3:1 D64", 4, 96, 3, 1, 64, 128, 89, "llama", ""}};

// Every method and ablation with budget B (page size 4 where pages are involved).
std::vector<AttentionOptions> all_methods(int B) {
  std::vector<AttentionOptions> out;
  out.push_back(method(Method::Streaming, B));
  AttentionOptions q = method(Method::Quest, B);
  q.page_size = 4;
  out.push_back(q);
  q.gqa = GqaSelection::PerKvHead;
  out.push_back(q);
  for (int variant = 0; variant < 9; ++variant) {
    AttentionOptions a = method(Method::Adamas, B);
    a.page_size = 4;
    switch (variant) {
      case 1: a.hadamard = false; break;
      case 2: a.bits = 1; break;
      case 3: a.bits = 3; break;
      case 4: a.distance = Distance::L2; break;
      case 5: a.granularity = Granularity::Page; break;
      case 6: a.auto_thresholds = true; break;
      case 7: a.gqa = GqaSelection::PerKvHead; break;
      case 8: a.thresholds = {-1.0f, 0.0f, 1.0f}; break;
      default: break;
    }
    out.push_back(a);
  }
  out.push_back(method(Method::Oracle, B));
  AttentionOptions oracle_kv = method(Method::Oracle, B);
  oracle_kv.gqa = GqaSelection::PerKvHead;
  out.push_back(oracle_kv);
  return out;
}

std::string describe(const AttentionOptions& o) {
  std::string s = std::string(method_name(o.method)) + "@" + std::to_string(o.budget);
  if (o.method == Method::Adamas)
    s += " bits " + std::to_string(o.bits) + (o.hadamard ? "" : " no-hadamard") +
         (o.distance == Distance::L2 ? " l2" : "") + (o.granularity == Granularity::Page ? " page" : "") +
         (o.auto_thresholds ? " auto" : "") + (o.thresholds.size() == 3 && o.thresholds[0] == -1.0f ? " custom" : "");
  if (o.gqa == GqaSelection::PerKvHead) s += " gqa=kv";
  return s;
}

// The number of tokens a selection of budget B must hold at length n.
int expected_size(const AttentionOptions& o, int n) {
  const bool paged = o.method == Method::Quest || (o.method == Method::Adamas && o.granularity == Granularity::Page);
  if (!paged) return o.budget;
  const int P = o.page_size, cur = (n - 1) / P;
  return (o.budget / P - 1) * P + (n - cur * P);
}

// Checks one step's records against the definitions. Returns false (after reporting) on a mismatch.
bool check_step(const Engine& e, const StepRecord& r, const char* file, int line, const std::string& what) {
  const AttentionOptions& o = e.attention();
  const int L = e.config().n_layers, H = e.config().n_heads, group = H / e.config().n_kv_heads;
  const int n = r.position + 1;
  const bool sparse = n > o.budget;
  auto fail = [&](const std::string& why) {
    adamas::test::fail(file, line, what + " at position " + std::to_string(r.position) + ": " + why);
    return false;
  };
  for (int l = 0; l < L; ++l)
    for (int h = 0; h < H; ++h) {
      const float recall = r.recall[size_t(l) * H + h];
      const std::vector<int32_t>& s = r.selected[size_t(l) * H + h];
      const std::string where = " (layer " + std::to_string(l) + ", head " + std::to_string(h) + ")";
      if (l < o.skip_layers || !sparse) {
        if (!std::isnan(recall) || !s.empty()) return fail("a dense layer has a recall or a selection" + where);
        continue;
      }
      if (!(recall >= 0.0f && recall <= 1.0f + 1e-5f)) return fail("recall " + std::to_string(recall) + where);
      if (int(s.size()) != expected_size(o, n))
        return fail(std::to_string(s.size()) + " tokens selected, expected " + std::to_string(expected_size(o, n)) +
                    where);
      for (size_t i = 0; i < s.size(); ++i)
        if (s[i] < 0 || s[i] >= n || (i > 0 && s[i] <= s[i - 1]))
          return fail("positions not ascending in [0, n)" + where);
      if (s.back() != n - 1) return fail("the current token is missing" + where);
      if (o.method == Method::Streaming) {
        const int sink = std::min(o.sink, o.budget - 1);
        for (size_t i = 0; i < s.size(); ++i) {
          const int want = int(i) < sink ? int(i) : n - (o.budget - int(i));
          if (s[i] != want) return fail("not sink + recent" + where);
        }
      }
      if (o.gqa == GqaSelection::PerKvHead && h % group != 0 && s != r.selected[size_t(l) * H + h / group * group])
        return fail("heads of one KV group selected differently" + where);
    }
  return true;
}

}  // namespace

TEST(engine_methods_budget_covering_length_is_full_attention) {
  for (const TinyShape& shape : kShapes) {
    TempFile file(tiny_model(shape, 42));
    const std::unique_ptr<Engine> engine = make_engine(file.path, EngineOptions{});
    Engine& e = *engine;
    std::mt19937 rng(1);
    const std::vector<int32_t> prompt = random_tokens(rng, 37, shape.vocab), next = random_tokens(rng, 23, shape.vocab);
    const int total = int(prompt.size() + next.size());
    e.set_attention(method(Method::Full, 0));
    const std::vector<float> full = step_logits(e, prompt, next);
    for (int B : {total, total + 1, 1000})
      for (AttentionOptions o : all_methods(B)) {
        o.measure_recall = true;
        o.record_selection = true;
        e.set_attention(o);
        const std::vector<float> got = step_logits(e, prompt, next);
        if (std::memcmp(got.data(), full.data(), got.size() * sizeof(float)) != 0)
          adamas::test::fail(__FILE__, __LINE__, describe(o) + ": logits differ from full attention");
        CHECK_EQ(e.records().size(), next.size());
        for (const StepRecord& r : e.records()) CHECK(check_step(e, r, __FILE__, __LINE__, describe(o)));
      }
  }
}

TEST(engine_methods_selections_follow_the_definitions) {
  for (const TinyShape& shape : kShapes) {
    TempFile file(tiny_model(shape, 7));
    const std::unique_ptr<Engine> engine = make_engine(file.path, EngineOptions{});
    Engine& e = *engine;
    std::mt19937 rng(2);
    // prefill in three calls, one of them longer than the engine's internal chunk of 256 tokens
    const std::vector<int32_t> a = random_tokens(rng, 50, shape.vocab), b = random_tokens(rng, 270, shape.vocab),
                               c = random_tokens(rng, 9, shape.vocab), next = random_tokens(rng, 40, shape.vocab);
    std::vector<float> logits(size_t(shape.vocab));
    for (int B : {1, 16, 37})
      for (AttentionOptions o : all_methods(B)) {
        const bool paged = o.method == Method::Quest || o.granularity == Granularity::Page;
        if (paged && B < o.page_size) continue;
        o.measure_recall = true;
        o.record_selection = true;
        e.set_attention(o);
        e.reset();
        e.prefill(a.data(), int(a.size()), logits.data());
        e.prefill(b.data(), int(b.size()), logits.data());
        e.prefill(c.data(), int(c.size()), logits.data());
        for (int32_t t : next) e.decode(t, logits.data());
        CHECK_EQ(e.records().size(), next.size());
        for (const StepRecord& r : e.records())
          if (!check_step(e, r, __FILE__, __LINE__, describe(o))) break;
        for (float x : logits) CHECK(std::isfinite(x));
      }
  }
}

TEST(engine_methods_budget_one_is_the_current_token) {
  TempFile file(tiny_model(kShapes[0], 3));
  const std::unique_ptr<Engine> engine = make_engine(file.path, EngineOptions{});
  Engine& e = *engine;
  std::mt19937 rng(3);
  const std::vector<int32_t> prompt = random_tokens(rng, 20, kShapes[0].vocab);
  const std::vector<int32_t> next = random_tokens(rng, 5, kShapes[0].vocab);
  for (Method m : {Method::Streaming, Method::Adamas}) {
    AttentionOptions o = method(m, 1);
    o.record_selection = true;
    o.measure_recall = true;
    e.set_attention(o);
    step_logits(e, prompt, next);
    for (const StepRecord& r : e.records())
      for (int l = o.skip_layers; l < e.config().n_layers; ++l)
        for (int h = 0; h < e.config().n_heads; ++h) {
          CHECK(r.selected[size_t(l) * e.config().n_heads + h] == std::vector<int32_t>({r.position}));
          const float recall = r.recall[size_t(l) * e.config().n_heads + h];
          CHECK(recall > 0.0f && recall <= 1.0f + 1e-5f);
        }
  }
}

TEST(engine_methods_larger_budget_selects_a_superset) {
  // At the first decode step the first sparse layer sees the same queries and keys whatever the
  // budget, and every method's choice is a top-k under one total order: the sets are nested, and
  // so are the softmax masses on them.
  TempFile file(tiny_model(kShapes[1], 5));
  const std::unique_ptr<Engine> engine = make_engine(file.path, EngineOptions{});
  Engine& e = *engine;
  std::mt19937 rng(4);
  const std::vector<int32_t> prompt = random_tokens(rng, 150, kShapes[1].vocab);
  const int H = e.config().n_heads;
  for (size_t m = 0; m < all_methods(16).size(); ++m) {
    std::vector<std::vector<int32_t>> prev;
    std::vector<float> prev_recall;
    for (int B : {16, 32, 64, 128}) {
      AttentionOptions o = all_methods(B)[m];
      o.record_selection = true;
      o.measure_recall = true;
      if (o.auto_thresholds) continue;  // fitted thresholds do not depend on B either, but keep it simple
      e.set_attention(o);
      step_logits(e, prompt, {prompt[0]});
      const StepRecord& r = e.records().at(0);
      const int l = o.skip_layers;
      for (int h = 0; h < H; ++h) {
        const std::vector<int32_t>& s = r.selected[size_t(l) * H + h];
        const float recall = r.recall[size_t(l) * H + h];
        if (!prev.empty()) {
          CHECK(std::includes(s.begin(), s.end(), prev[h].begin(), prev[h].end()));
          CHECK(recall >= prev_recall[h] - 1e-5f);
        }
        if (prev.size() < size_t(H)) prev.resize(size_t(H)), prev_recall.resize(size_t(H));
        prev[h] = s;
        prev_recall[h] = recall;
      }
    }
  }
}

TEST(engine_methods_truncate_and_switch_keep_selectors_in_step) {
  // One prefill serves several methods: set_attention rebuilds the method state from the cache,
  // truncate drops decoded tokens; the result equals a fresh run.
  TempFile file(tiny_model(kShapes[0], 9));
  const std::unique_ptr<Engine> engine = make_engine(file.path, EngineOptions{});
  Engine& e = *engine;
  std::mt19937 rng(6);
  const std::vector<int32_t> prompt = random_tokens(rng, 90, kShapes[0].vocab);
  const std::vector<int32_t> next = random_tokens(rng, 30, kShapes[0].vocab);
  const int V = kShapes[0].vocab;
  std::vector<float> logits(static_cast<size_t>(V));
  e.set_attention(method(Method::Full, 0));
  e.prefill(prompt.data(), int(prompt.size()), logits.data());
  for (AttentionOptions o : all_methods(24)) {
    e.truncate(int(prompt.size()));
    e.set_attention(o);
    std::vector<float> reused;
    for (int32_t t : next) {
      e.decode(t, logits.data());
      reused.insert(reused.end(), logits.begin(), logits.end());
    }
    const std::unique_ptr<Engine> fresh = make_engine(file.path, EngineOptions{});
    fresh->set_attention(o);
    const std::vector<float> want = step_logits(*fresh, prompt, next);
    if (std::memcmp(reused.data(), want.data() + V, reused.size() * sizeof(float)) != 0)
      adamas::test::fail(__FILE__, __LINE__, describe(o) + ": decoding after truncate differs from a fresh run");
  }
}

TEST(engine_methods_long_decode_without_prefill) {
  // The PG-19 protocol: one token of prefill, everything else through the decode path, so the
  // methods switch on once the length passes the budget (auto thresholds are fitted on the one token).
  TempFile file(tiny_model(kShapes[1], 11));
  const std::unique_ptr<Engine> engine = make_engine(file.path, EngineOptions{});
  Engine& e = *engine;
  std::mt19937 rng(8);
  const std::vector<int32_t> tokens = random_tokens(rng, 300, kShapes[1].vocab);
  std::vector<float> logits(size_t(kShapes[1].vocab));
  for (AttentionOptions o : all_methods(32)) {
    o.measure_recall = true;
    o.record_selection = true;
    e.set_attention(o);
    e.reset();
    e.prefill(tokens.data(), 1, logits.data());
    for (size_t i = 1; i < tokens.size(); ++i) e.decode(tokens[i], logits.data());
    CHECK_EQ(e.records().size(), tokens.size() - 1);
    for (const StepRecord& r : e.records())
      if (!check_step(e, r, __FILE__, __LINE__, describe(o))) break;
  }
}

TEST(engine_replay_next_gives_identical_logits) {
  // Record every method's selections, then decode the same tokens again with each step's
  // recorded lists given to replay_next: the logits are the same bits. Replaying streaming's lists
  // through an engine set to adamas gives streaming's logits: attention is over the lists alone.
  TempFile file(tiny_model(kShapes[0], 13));
  const std::unique_ptr<Engine> engine = make_engine(file.path, EngineOptions{});
  Engine& e = *engine;
  std::mt19937 rng(10);
  const std::vector<int32_t> prompt = random_tokens(rng, 70, kShapes[0].vocab), next = random_tokens(rng, 25, kShapes[0].vocab);
  const int V = kShapes[0].vocab;
  for (AttentionOptions o : all_methods(20)) {
    o.record_selection = true;
    o.measure_recall = true;
    e.set_attention(o);
    const std::vector<float> want = step_logits(e, prompt, next);
    const std::vector<StepRecord> recorded = e.records();
    for (const AttentionOptions& into : {o, all_methods(20)[11]}) {  // adamas with custom thresholds
      e.set_attention(into);
      e.truncate(0);
      std::vector<float> got(want.size());
      e.prefill(prompt.data(), int(prompt.size()), got.data());
      for (size_t i = 0; i < next.size(); ++i) {
        e.replay_next(recorded[i].selected);
        e.decode(next[i], &got[(i + 1) * V]);
      }
      const bool same_method = into.method == o.method && describe(into) == describe(o);
      if (std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) != 0)
        adamas::test::fail(__FILE__, __LINE__, describe(o) + " replayed into " + describe(into) + ": logits differ");
      if (same_method) {
        CHECK_EQ(e.records().size(), recorded.size());
        for (size_t i = 0; i < recorded.size() && i < e.records().size(); ++i) {
          CHECK(e.records()[i].selected == recorded[i].selected);
          CHECK(std::memcmp(e.records()[i].recall.data(), recorded[i].recall.data(),
                            recorded[i].recall.size() * sizeof(float)) == 0);
        }
      }
      if (o.method != Method::Streaming) break;  // only streaming's lists fit every method's budget shape
    }
  }
}

TEST(engine_replay_next_checks_the_lists) {
  TempFile file(tiny_model(kShapes[0], 14));
  const std::unique_ptr<Engine> engine = make_engine(file.path, EngineOptions{});
  Engine& e = *engine;
  std::mt19937 rng(11);
  const std::vector<int32_t> prompt = random_tokens(rng, 30, kShapes[0].vocab);
  e.set_attention(method(Method::Streaming, 8));
  e.prefill(prompt.data(), int(prompt.size()), nullptr);
  const int L = e.config().n_layers, H = e.config().n_heads;
  CHECK_THROWS_WITH(e.replay_next({{1, 2}}), "1 lists, expected n_layers x n_heads = 3 x 4");
  std::vector<std::vector<int32_t>> lists(size_t(L) * H, std::vector<int32_t>{0, 31});
  CHECK_THROWS_WITH(e.replay_next(lists), "layer 2, head 0: position 31 at index 1");
  lists.assign(size_t(L) * H, {});
  CHECK_THROWS_WITH(e.replay_next(lists), "layer 2, head 0: the list is empty");
  for (int l = 0; l < 2; ++l)  // dense layers: ignored
    for (int h = 0; h < H; ++h) lists[size_t(l) * H + h] = {99};
  for (int l = 2; l < L; ++l)
    for (int h = 0; h < H; ++h) lists[size_t(l) * H + h] = {h, 30};
  e.replay_next(lists);
  e.truncate(30);  // forgets the lists: the next step selects again
  std::vector<float> logits(size_t(kShapes[0].vocab));
  AttentionOptions o = method(Method::Streaming, 8);
  o.record_selection = true;
  e.set_attention(o);
  e.replay_next(lists);
  e.decode(prompt[0], logits.data());
  CHECK(e.records().at(0).selected[size_t(2) * H + 3] == std::vector<int32_t>({3, 30}));
  e.decode(prompt[1], logits.data());  // replay_next applies to one step only
  CHECK_EQ(e.records().at(1).selected[size_t(2) * H + 3].size(), size_t(8));
}

TEST(engine_returns_the_greedy_token_and_describes_itself) {
  TempFile file(tiny_model(kShapes[1], 15));
  const std::unique_ptr<Engine> engine = make_engine(file.path, EngineOptions{});
  Engine& e = *engine;
  CHECK_EQ(e.backend(), std::string("cpu"));
  CHECK(!e.device_name().empty());
  CHECK(std::isnan(e.last_decode_ms()));
  std::mt19937 rng(12);
  const std::vector<int32_t> prompt = random_tokens(rng, 40, kShapes[1].vocab);
  const int V = kShapes[1].vocab;
  auto argmax = [V](const std::vector<float>& x) { return int32_t(std::max_element(x.begin(), x.begin() + V) - x.begin()); };
  std::vector<float> logits(static_cast<size_t>(V));
  e.set_attention(method(Method::Adamas, 16));
  e.reserve(4096);
  int32_t t = e.prefill(prompt.data(), int(prompt.size()), logits.data());
  CHECK_EQ(t, argmax(logits));
  for (int i = 0; i < 10; ++i) {
    const int32_t without = e.decode(t, nullptr);  // the same step twice, with and without logits
    e.truncate(e.length() - 1);
    const int32_t with = e.decode(t, logits.data());
    CHECK_EQ(without, with);
    CHECK_EQ(with, argmax(logits));
    t = with;
  }
  CHECK_EQ(e.length(), 50);
  CHECK_THROWS_WITH(e.reserve(-1), "cannot reserve -1 tokens");
  EngineOptions bad;
  bad.device = "tpu";
  CHECK_THROWS_WITH(make_engine(file.path, bad), "unknown device 'tpu' (choices: cpu, cuda)");
  bad.device = "cpu";
  bad.threads = -2;
  CHECK_THROWS_WITH(make_engine(file.path, bad), "threads must be >= 0");
}
