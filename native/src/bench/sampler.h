// Repeated measurement with NVBench's stopping rule (the "stdrel" criterion): keep sampling until
// there are at least min_samples, at least min_time_s of measured time, and a relative standard
// deviation of at most max_noise, or until timeout_s of wall-clock time has passed.
#pragma once
#include <functional>
#include <vector>

namespace adamas::bench {

struct StoppingRule {
  int min_samples = 10;
  double min_time_s = 0.5;
  double max_noise = 0.005;
  double timeout_s = 15.0;
};

struct Samples {
  std::vector<double> us;  // every sample in microseconds, in the order taken
  double median_us = 0;
  double mean_us = 0;
  double noise = 0;        // unbiased standard deviation / mean (NaN below 5 samples, like NVBench)
  bool timed_out = false;  // stopped by the timeout before the rule was met
};

// Calls sample() (one measurement, in seconds) until the rule is met.
Samples collect_samples(const StoppingRule& rule, const std::function<double()>& sample);

// median, mean and noise of us.
void summarize(Samples& s);

}  // namespace adamas::bench
