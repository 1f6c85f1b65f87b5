// Summaries of a set of numbers (timing samples, per-trial scores) and the closed-form confidence
// intervals: Student's t for a mean of timings, Wilson's score interval for a proportion (means of
// scores take the bootstrap, src/stats/bootstrap.ts).
import { interquartileRange, max, mean, median, min, quantile, sampleStandardDeviation } from 'simple-statistics';
import { normalQuantile, studentTQuantile } from './distributions.js';

export interface Summary {
  n: number;
  mean: number;
  median: number;
  /** Sample (n - 1) standard deviation; NaN when n < 2. */
  stdev: number;
  /** stdev / |mean|, the relative noise NVBench reports; NaN when n < 2 or the mean is 0. */
  relNoise: number;
  q1: number;
  q3: number;
  iqr: number;
  min: number;
  max: number;
}

/** Summary of `values` (at least one, all finite). Quantiles are simple-statistics' `quantile`. */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new RangeError('summarize: no values');
  for (const v of values) if (!Number.isFinite(v)) throw new RangeError(`summarize: non-finite value ${v}`);
  const xs = values as number[];
  const m = mean(xs);
  const sd = xs.length >= 2 ? sampleStandardDeviation(xs) : NaN;
  return {
    n: xs.length,
    mean: m,
    median: median(xs),
    stdev: sd,
    relNoise: xs.length >= 2 && m !== 0 ? sd / Math.abs(m) : NaN,
    q1: quantile(xs, 0.25),
    q3: quantile(xs, 0.75),
    iqr: interquartileRange(xs),
    min: min(xs),
    max: max(xs),
  };
}

export interface Interval {
  lo: number;
  hi: number;
  /** The confidence level, e.g. 0.95. */
  level: number;
}

export function checkLevel(level: number): void {
  if (!(level > 0 && level < 1)) throw new RangeError(`confidence level must lie in (0, 1) (got ${level})`);
}

/** mean ± t_{(1+level)/2, n-1} · s/√n. Undefined (null) for fewer than two values. */
export function meanInterval(values: readonly number[], level = 0.95): Interval | null {
  checkLevel(level);
  if (values.length < 2) return null;
  const xs = values as number[];
  const m = mean(xs);
  const half = studentTQuantile((1 + level) / 2, xs.length - 1) * (sampleStandardDeviation(xs) / Math.sqrt(xs.length));
  return { lo: m - half, hi: m + half, level };
}

/**
 * Wilson score interval of a proportion with `successes` out of `trials` (successes may be
 * fractional when it comes from mean × n). Stays inside [0, 1] and behaves at 0 and 1, unlike the
 * normal (Wald) interval. Null for zero trials.
 */
export function wilsonInterval(successes: number, trials: number, level = 0.95): Interval | null {
  checkLevel(level);
  if (!(trials > 0)) return null;
  if (successes < 0 || successes > trials)
    throw new RangeError(`wilsonInterval: successes must lie in [0, trials] (got ${successes} of ${trials})`);
  const z = normalQuantile((1 + level) / 2);
  const p = successes / trials;
  const z2n = (z * z) / trials;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / trials + z2n / (4 * trials));
  // at 0 and at n successes the bound is exactly 0 (1); the formula leaves a rounding residue
  const lo = successes === 0 ? 0 : Math.max(0, centre - half);
  const hi = successes === trials ? 1 : Math.min(1, centre + half);
  return { lo, hi, level };
}
