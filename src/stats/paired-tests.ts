// Tests of two measurements on the same cases. One test serves both kinds of metric: the exact
// sign test, i.e. the two-sided exact binomial test (p = 1/2) on the cases where the two differ.
// On pass/fail outcomes those are the discordant pairs and the sign test is exactly McNemar's
// exact test; on scores it asks whether one side is better on more cases than chance allows,
// whatever the size of each difference (robust to the 0-or-100 scores RULER and LongBench give).
// The p-values agree with scipy.stats.binomtest(k, n, 0.5).pvalue.
import { incompleteBeta } from './distributions.js';

/** P(X <= k) for X ~ Binomial(m, 1/2): I_{1/2}(m - k, k + 1). */
function binomialHalfCdf(k: number, m: number): number {
  if (k < 0) return 0;
  if (k >= m) return 1;
  return incompleteBeta(0.5, m - k, k + 1);
}

/**
 * Two-sided exact binomial test of k successes in m trials against p = 1/2: twice the smaller
 * tail, at most 1 (the distribution is symmetric, so this is scipy's "as or less likely" rule).
 */
export function binomialTestHalf(k: number, m: number): number {
  if (!(Number.isInteger(k) && Number.isInteger(m) && k >= 0 && k <= m))
    throw new RangeError(`binomialTestHalf: need integers 0 <= k <= m (got k=${k}, m=${m})`);
  const j = Math.min(k, m - k);
  // the smaller tail holds half the mass or more (k at or next to m/2): p is exactly 1
  if (2 * j + 1 >= m) return 1;
  return Math.min(1, 2 * binomialHalfCdf(j, m));
}

export interface SignTestResult {
  /** Cases where the second measurement is higher, lower, and equal to the first. */
  higher: number;
  lower: number;
  ties: number;
  /** Two-sided exact p-value. */
  p: number;
  /** The smallest p-value this many cases can give (all differences one way): 2 / 2^(cases). */
  minP: number;
}

/** The smallest two-sided p-value of the sign test on `cases` cases that all differ one way. */
export function signTestMinP(cases: number): number {
  return cases <= 0 ? 1 : Math.min(1, 2 * 0.5 ** cases);
}

/**
 * Exact sign test of paired measurements: `first[i]` and `second[i]` are the same case measured
 * twice (baseline and current, or two methods). Ties carry no evidence and are set aside.
 */
export function signTest(first: readonly number[], second: readonly number[]): SignTestResult {
  if (first.length !== second.length) throw new RangeError(`signTest: ${first.length} first values but ${second.length} second values`);
  let higher = 0;
  let lower = 0;
  for (let i = 0; i < first.length; i++) {
    const a = first[i];
    const b = second[i];
    if (!Number.isFinite(a) || !Number.isFinite(b)) throw new RangeError(`signTest: non-finite value at pair ${i} (${a}, ${b})`);
    if (b > a) higher++;
    else if (b < a) lower++;
  }
  const cases = first.length;
  return { higher, lower, ties: cases - higher - lower, p: binomialTestHalf(higher, higher + lower), minP: signTestMinP(cases) };
}

/**
 * Exact McNemar test from the discordant counts of a 2 × 2 table of pass/fail pairs: `b` pairs
 * passed only the first time, `c` only the second. The same number as signTest on the outcomes.
 */
export function mcnemarExact(b: number, c: number): number {
  return binomialTestHalf(c, b + c);
}
