// Bootstrap confidence intervals for a mean of scores (LongBench F1 / ROUGE, RULER scores, a mean
// difference of paired cases): BCa, the bias-corrected and accelerated percentile interval
// (Efron 1987; Efron & Tibshirani 1993, §14.3), which is also scipy.stats.bootstrap's default.
// BCa corrects the plain percentile interval for the skew and the bias of the bootstrap
// distribution, which matter for bounded scores near 0 or 100. Resampling is seeded
// (src/stats/random.ts): the interval is a function of the data alone.
import { mean, quantileSorted } from 'simple-statistics';
import { normalCdf, normalQuantile } from './distributions.js';
import { defaultSeed, seededRandom } from './random.js';
import { checkLevel, type Interval } from './summary.js';

/**
 * Resamples of an interval (Efron & Tibshirani's 1000-2000 for percentile intervals): the BCa
 * endpoints move by about 1.5 % of the width from one seed to another, below the rounding of a
 * printed interval (two significant digits of its width).
 */
export const defaultResamples = 2000;

export interface BootstrapOptions {
  /** Confidence level (default 0.95). */
  level?: number;
  resamples?: number;
  seed?: number;
  /** Weights of the values (a weighted mean, e.g. per-document perplexity weighted by tokens). */
  weights?: readonly number[];
}

/**
 * 'bca'; 'percentile' where the BCa correction is undefined (every resample on one side of the
 * estimate); 'constant' when all values are equal (the interval is that value).
 */
export type BootstrapMethod = 'bca' | 'percentile' | 'constant';

export interface BootstrapInterval extends Interval {
  method: BootstrapMethod;
  resamples: number;
}

/**
 * The BCa interval from a bootstrap distribution: `replicates` are the statistic on the
 * resamples, `jackknife` the statistic with each value left out in turn. z0 counts replicates
 * equal to the estimate as half below (scipy's 'mean' percentile of score), which matters for
 * discrete statistics such as a mean of 0/1 outcomes; the endpoints are quantiles with linear
 * interpolation (numpy's default).
 */
export function bcaInterval(estimate: number, replicates: readonly number[], jackknife: readonly number[], level = 0.95): Interval & { method: 'bca' | 'percentile' } {
  checkLevel(level);
  if (replicates.length === 0) throw new RangeError('bcaInterval: no bootstrap replicates');
  if (jackknife.length < 2) throw new RangeError('bcaInterval: the jackknife needs at least two values');
  const sorted = [...replicates].sort((x, y) => x - y);
  const tail = (1 - level) / 2;
  let below = 0;
  let atOrBelow = 0;
  for (const r of replicates) {
    if (r < estimate) below++;
    if (r <= estimate) atOrBelow++;
  }
  const share = (below + atOrBelow) / (2 * replicates.length);
  if (share <= 0 || share >= 1)
    return { lo: quantileSorted(sorted, tail), hi: quantileSorted(sorted, 1 - tail), level, method: 'percentile' };
  const z0 = normalQuantile(share);
  // acceleration from the jackknife: a = Σ d³ / (6 (Σ d²)^{3/2}), d = mean - θ_(i)
  const jm = mean(jackknife as number[]);
  let s2 = 0;
  let s3 = 0;
  for (const t of jackknife) {
    const d = jm - t;
    s2 += d * d;
    s3 += d * d * d;
  }
  const a = s2 > 0 ? s3 / (6 * s2 ** 1.5) : 0;
  const adjusted = (z: number) => normalCdf(z0 + (z0 + z) / (1 - a * (z0 + z)));
  const zTail = normalQuantile(tail);
  return { lo: quantileSorted(sorted, adjusted(zTail)), hi: quantileSorted(sorted, adjusted(-zTail)), level, method: 'bca' };
}

function checkValues(values: readonly number[], weights: readonly number[] | undefined): void {
  for (const v of values) if (!Number.isFinite(v)) throw new RangeError(`bootstrap: non-finite value ${v}`);
  if (!weights) return;
  if (weights.length !== values.length)
    throw new RangeError(`bootstrap: ${weights.length} weights for ${values.length} values`);
  for (const w of weights) if (!(w > 0 && Number.isFinite(w))) throw new RangeError(`bootstrap: weights must be positive (got ${w})`);
}

/**
 * BCa interval of the (weighted) mean of `values`, from `resamples` seeded resamples of the
 * values (with their weights). Null for fewer than two values.
 */
export function bootstrapMeanInterval(values: readonly number[], opts: BootstrapOptions = {}): BootstrapInterval | null {
  const level = opts.level ?? 0.95;
  checkLevel(level);
  checkValues(values, opts.weights);
  const n = values.length;
  if (n < 2) return null;
  const resamples = opts.resamples ?? defaultResamples;
  if (!(Number.isInteger(resamples) && resamples >= 1)) throw new RangeError(`bootstrap: resamples must be a positive integer (got ${resamples})`);
  const w = opts.weights ?? new Array<number>(n).fill(1);
  let sw = 0;
  let swx = 0;
  for (let i = 0; i < n; i++) {
    sw += w[i];
    swx += w[i] * values[i];
  }
  const estimate = swx / sw;
  if (values.every((v) => v === values[0])) return { lo: values[0], hi: values[0], level, method: 'constant', resamples: 0 };

  // resample indices uniformly with replacement, a buffer at a time (this loop is the cost of a report)
  const random = seededRandom(opts.seed ?? defaultSeed);
  const xs = Float64Array.from(values);
  const ws = Float64Array.from(w);
  const idx = new Int32Array(n);
  const replicates = new Array<number>(resamples);
  for (let b = 0; b < resamples; b++) {
    random.indices(idx, n);
    let rw = 0;
    let rwx = 0;
    for (let k = 0; k < n; k++) {
      const i = idx[k];
      rw += ws[i];
      rwx += ws[i] * xs[i];
    }
    replicates[b] = rwx / rw;
  }
  const jackknife = values.map((v, i) => (swx - w[i] * v) / (sw - w[i]));
  return { ...bcaInterval(estimate, replicates, jackknife, level), resamples };
}
