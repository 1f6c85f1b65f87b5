// What `compare` judges a run by: the shape of configs/regression.json (validated by
// src/stats/regression-config.ts) and the lookup of a metric's entry.
import type { Direction, MetricKind } from './metrics.js';
import type { TestName } from './tests.js';

export interface MetricThreshold {
  /** Overrides the metric table (src/stats/metrics.ts). */
  direction?: Direction;
  kind?: MetricKind;
  /** Accuracy: tolerated absolute worsening (the rule for the same inputs on the CPU). */
  abs?: number;
  /** Accuracy: tolerated worsening relative to the baseline value. */
  rel?: number;
  /** Timing: smallest relative change that counts. */
  min_effect?: number;
  /** Timing: significance level of the test. */
  alpha?: number;
  /** Leave the metric out of the comparison. */
  ignore?: boolean;
}

export interface RegressionConfig {
  /** Significance level of the timing test. */
  alpha: number;
  /** Relative change of a timing that matters (0.05 = 5 %). */
  min_effect: number;
  test: TestName;
  /** Family-wise significance level of the paired accuracy tests (Holm over the comparison). */
  accuracy_alpha: number;
  /** Tolerated absolute worsening of an accuracy metric that has no entry in `metrics`. */
  default_abs: number;
  /** A measurement of the baseline absent from the current run. */
  missing: 'regression' | 'info';
  /** Case parameters that only repeat a measurement (aggregated over, not matched on). */
  trial_keys: string[];
  /** Case parameters drawn from the seed (passkey's key): left out when pairing the trials of two runs. */
  seed_keys: string[];
  /** Per metric: 'task:metric', 'metric' or the metric's base before a dot ('latency_us'). */
  metrics: Record<string, MetricThreshold>;
}

/** The entry for a metric of a task: 'task:metric', then 'metric', then its base ('latency_us'). */
export function thresholdFor(config: RegressionConfig, task: string, metric: string): MetricThreshold {
  const dot = metric.indexOf('.');
  const base = dot > 0 ? metric.slice(0, dot) : undefined;
  const candidates = [`${task}:${metric}`, metric, ...(base ? [`${task}:${base}`, base] : [])];
  for (const c of candidates) {
    const t = config.metrics[c];
    if (t) return t;
  }
  return {};
}
