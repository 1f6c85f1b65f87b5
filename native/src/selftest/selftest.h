// The selftest of the layer attention: for a grid of shapes, lengths, budgets and methods, fresh
// random inputs (float16 values, from one seed) go through the CPU layer attention and a plain
// reference (reference.h), and, where a CUDA device is present, through the CUDA layer attention
// too. Each comparison is a row with its value and tolerance:
//   cpu  vs the plain reference: selection (exact), attention (|d| <= 1e-4 + 1e-4 |ref|),
//        recall mass (<= 1e-4);
//   cuda vs the CPU layer: selection (exact: same inputs, same sets), attention (|d| <= 1e-3 +
//        1e-3 |cpu|), attention over given lists (the CPU's selection, as a replay attends),
//        recall mass (<= 1e-4), and the attention of a batch of 3 sequences of different lengths.
// Without CUDA (build or device) the CUDA rows are absent and the result says why.
#pragma once
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "attention/options.h"
#include "selftest/target.h"

namespace adamas::selftest {

struct Row {
  std::string backend;  // the layer checked: "cpu" or "cuda"
  std::string against;  // "plain reference" or "cpu layer"
  std::string check;    // "selection", "attention", "attention over given lists", "recall mass", ...
  std::string shape;    // e.g. "H 8/KV 2 x D 128, n 331-333"
  std::string method;   // e.g. "adamas@64 gqa kv"
  double value = 0;     // lists that differ (selection), else the largest |difference|; inf: non-finite
  std::string tolerance;
  bool pass = false;
  std::string note;     // the first difference, an error
};

struct Options {
  uint64_t seed = 0;
  bool cuda = true;  // run the CUDA checks when this build and machine can
};

struct Result {
  uint64_t seed = 0;
  std::vector<Row> rows;
  bool cuda_run = false;
  std::string cuda_reason;  // why the CUDA checks did not run (or stopped)
  std::string cuda_device;
  double seconds = 0;
};

// One point of the grid: a method at a shape, a prefill of `prefill` positions appended in
// chunks, then `steps` decode steps (lengths prefill + 1 .. prefill + steps).
struct Point {
  AttentionOptions opts;
  int H = 0, KV = 0, D = 0;
  int prefill = 0, steps = 0;
};

// A batch: one method at a shape over sequences of these lengths, stepped together.
struct BatchPoint {
  AttentionOptions opts;
  int H = 0, KV = 0, D = 0;
  std::vector<int> lengths;
};

std::vector<Point> layer_grid();
std::vector<BatchPoint> batch_grid();

// The rows of one point: the CPU layer against the plain reference, and the target's layer (when
// given) against the CPU layer, on the same inputs drawn from rng.
void check_point(const Point& p, std::mt19937_64& rng, Target* target, std::vector<Row>& rows);
// The rows of a batch on the target (none when its layers take one sequence).
void check_batch(const BatchPoint& p, std::mt19937_64& rng, Target& target, std::vector<Row>& rows);

// The whole grid, seeded from opts.seed.
Result run_selftest(const Options& opts);

// A seed from the clock (below 2^53, so that JavaScript holds it exactly).
uint64_t clock_seed();

}  // namespace adamas::selftest
