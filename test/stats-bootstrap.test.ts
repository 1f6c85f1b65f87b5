// The bootstrap interval of a mean: the BCa computation against SciPy on the same bootstrap
// distribution (exact), the whole resampling against scipy.stats.bootstrap (within Monte Carlo
// error, and apart from the plain percentile interval), its coverage on simulated data, and the
// edge cases.
//
// Reference values: SciPy 1.17.1. Fixed replicates (the exact check):
//   x = np.array([0, 12.5, 100, 33.3, 100, 0, 66.7, 100, 100, 25, 0, 100, 50, 100, 80])
//   reps = np.array([x.mean() + 30*((((i*37) % 101)/100 - 0.45)**3)*4 for i in range(400)])
//   scipy.stats.bootstrap((x,), np.mean, n_resamples=0, method='BCa', confidence_level=level,
//       bootstrap_result=SimpleNamespace(bootstrap_distribution=reps)).confidence_interval
// Resampled (Monte Carlo): scipy.stats.bootstrap((x,), np.mean, n_resamples=400000,
//   method='BCa' | 'percentile', rng=np.random.default_rng(1)).confidence_interval
import { describe, expect, it } from 'vitest';
import { bcaInterval, bootstrapMeanInterval, defaultResamples } from '../src/stats/bootstrap.js';
import { seededRandom } from '../src/stats/random.js';

const scores = [0, 12.5, 100, 33.3, 100, 0, 66.7, 100, 100, 25, 0, 100, 50, 100, 80];
const f1 = [0.91, 0.85, 0.0, 0.77, 0.66, 1.0, 0.95, 0.12, 0.88, 0.7, 0.93, 0.0, 0.81, 0.59, 1.0, 0.97, 0.44, 0.9, 0.86, 0.78];
const mean = (xs: readonly number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;

describe('BCa on a given bootstrap distribution', () => {
  const m = mean(scores);
  const reps = Array.from({ length: 400 }, (_, i) => m + 30 * ((((i * 37) % 101) / 100 - 0.45) ** 3) * 4);
  const jackknife = scores.map((v) => (m * scores.length - v) / (scores.length - 1));

  it('equals scipy.stats.bootstrap(method="BCa") on the same replicates', () => {
    const ci = bcaInterval(m, reps, jackknife, 0.95);
    expect(ci.method).toBe('bca');
    expect(ci.lo).toBeCloseTo(47.61125333333334, 10);
    expect(ci.hi).toBeCloseTo(73.75145333333333, 10);
    const ci90 = bcaInterval(m, reps, jackknife, 0.9);
    expect(ci90.lo).toBeCloseTo(48.29249333333334, 10);
    expect(ci90.hi).toBeCloseTo(70.29209333333334, 10);
  });

  it('falls back to the percentile interval when every replicate lies on one side', () => {
    const above = reps.map((r) => r + 100);
    const ci = bcaInterval(m, above, jackknife);
    expect(ci.method).toBe('percentile');
    const sorted = [...above].sort((a, b) => a - b);
    // numpy's linear quantiles of 400 values: positions 0.025 * 399 = 9.975 and 0.975 * 399 = 389.025
    expect(ci.lo).toBeCloseTo(sorted[9] + 0.975 * (sorted[10] - sorted[9]), 10);
    expect(ci.hi).toBeCloseTo(sorted[389] + 0.025 * (sorted[390] - sorted[389]), 10);
    expect(() => bcaInterval(m, [], jackknife)).toThrow(/replicates/);
    expect(() => bcaInterval(m, reps, [1])).toThrow(/jackknife/);
  });
});

describe('bootstrap interval of a mean', () => {
  it('agrees with scipy.stats.bootstrap within Monte Carlo error, and is not the percentile interval', () => {
    const cases: { xs: number[]; bca: [number, number]; percentile: [number, number] }[] = [
      { xs: scores, bca: [36.11333333333334, 77.55333333333333], percentile: [36.72666666666667, 78.16666666666667] },
      { xs: f1, bca: [0.5325, 0.818], percentile: [0.5599999999999999, 0.8315000000000001] },
    ];
    for (const c of cases) {
      const ci = bootstrapMeanInterval(c.xs, { resamples: 100_000, seed: 1 })!;
      const width = c.bca[1] - c.bca[0];
      expect(ci.method).toBe('bca');
      expect(Math.abs(ci.lo - c.bca[0])).toBeLessThan(0.01 * width);
      expect(Math.abs(ci.hi - c.bca[1])).toBeLessThan(0.01 * width);
    }
    // on the F1 scores the BCa correction moves the lower bound by 10 % of the width
    const ci = bootstrapMeanInterval(f1, { resamples: 100_000, seed: 1 })!;
    expect(Math.abs(ci.lo - cases[1].percentile[0])).toBeGreaterThan(0.05 * (cases[1].bca[1] - cases[1].bca[0]));
  });

  it('covers the true mean of skewed scores about 95% of the time', () => {
    // 400 samples of 25 scores u^3 (mean 1/4, skewed towards 0), 1000 resamples each
    const rnd = seededRandom(2024);
    let covered = 0;
    const trials = 400;
    for (let t = 0; t < trials; t++) {
      const xs = Array.from({ length: 25 }, () => rnd() ** 3);
      const ci = bootstrapMeanInterval(xs, { resamples: 1000, seed: t })!;
      if (ci.lo <= 0.25 && 0.25 <= ci.hi) covered++;
    }
    expect(covered / trials).toBeGreaterThan(0.91);
    expect(covered / trials).toBeLessThan(0.985);
  });

  it('is reproducible: a function of the data and the seed', () => {
    const a = bootstrapMeanInterval(f1);
    expect(bootstrapMeanInterval(f1)).toEqual(a);
    const b = bootstrapMeanInterval(f1, { seed: 99 })!;
    expect(b).not.toEqual(a);
    expect(Math.abs(b.lo - a!.lo)).toBeLessThan(0.03);
    expect(a!.resamples).toBe(defaultResamples);
  });

  it('weights values; equal weights change nothing', () => {
    const plain = bootstrapMeanInterval(f1)!;
    const three = bootstrapMeanInterval(f1, { weights: f1.map(() => 3) })!;
    expect(three.lo).toBeCloseTo(plain.lo, 12);
    expect(three.hi).toBeCloseTo(plain.hi, 12);
    // a heavy weight on the two zeros pulls the mean to 0.26 and the interval down with it
    const w = f1.map((v) => (v === 0 ? 20 : 1));
    const weighted = f1.reduce((s, v, i) => s + v * w[i], 0) / w.reduce((s, x) => s + x, 0);
    const heavy = bootstrapMeanInterval(f1, { weights: w })!;
    expect(heavy.lo).toBeLessThan(weighted);
    expect(heavy.hi).toBeGreaterThan(weighted);
    expect(heavy.lo).toBeLessThan(plain.lo - 0.3);
    expect(() => bootstrapMeanInterval(f1, { weights: [1, 2] })).toThrow(/weights/);
    expect(() => bootstrapMeanInterval([1, 2], { weights: [1, 0] })).toThrow(/positive/);
  });

  it('handles constant values, single values and bad input', () => {
    expect(bootstrapMeanInterval([100, 100, 100])).toEqual({ lo: 100, hi: 100, level: 0.95, method: 'constant', resamples: 0 });
    expect(bootstrapMeanInterval([3])).toBeNull();
    expect(bootstrapMeanInterval([])).toBeNull();
    expect(() => bootstrapMeanInterval([1, NaN])).toThrow(/non-finite/);
    expect(() => bootstrapMeanInterval([1, 2], { level: 1 })).toThrow(/level/);
    expect(() => bootstrapMeanInterval([1, 2], { resamples: 0 })).toThrow(/resamples/);
  });

  it('bounds a mean of 0/1 outcomes inside [0, 1]', () => {
    const ci = bootstrapMeanInterval([1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0], { resamples: 100_000 })!;
    // scipy.stats.bootstrap(..., method='BCa', n_resamples=400000): [0.4545..., 1.0]
    expect(ci.lo).toBeCloseTo(5 / 11, 2);
    expect(ci.hi).toBe(1);
  });
});

describe('seeded random', () => {
  it('gives the same stream from a seed, one value or a buffer of indices at a time', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const idx = new Int32Array(1000);
    b.indices(idx, 13);
    for (let k = 0; k < 1000; k++) expect(idx[k]).toBe(Math.floor(a() * 13));
    // the streams go on in step after a buffer
    expect(b()).toBe(a());
    const counts = new Array(13).fill(0);
    for (const i of idx) counts[i]++;
    expect(Math.min(...counts)).toBeGreaterThan(50); // about 77 each
    expect(seededRandom(8)()).not.toBe(seededRandom(7)());
  });
});
