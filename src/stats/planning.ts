// How many cases a measurement needs: the interval a planned n will give (--dry-run), the n for a
// wanted interval (default trials per device), and the n that separates two methods whose
// accuracies differ by Δ at a given power (the README's table).
//
// - Expected Wilson half-width at n trials and true accuracy p: Σ_k Binom(k; n, p) · hw(k, n),
//   exact, with hw the half-width of the Wilson interval of k successes.
// - Two independent samples of n cases each (unpaired; Fleiss, Levin & Paik 2003, eq. 4.14, without
//   the continuity correction): n = [z_{α/2} √(2 p̄ q̄) + z_β √(p1 q1 + p2 q2)]² / Δ².
// - The same n cases run by both methods (paired, McNemar; Connor 1987), ψ the share of cases on
//   which the two disagree: n = [z_{α/2} √ψ + z_β √(ψ − Δ²)]² / Δ². Agreement on most cases (small
//   ψ) is what makes the paired design cheap.
// - The exact power of the exact McNemar test, to check the approximation: the discordant count
//   m ~ Binom(n, ψ), the pairs the second method wins b ~ Binom(m, p01 / ψ), and the test rejects
//   when binomialTestHalf(b, m) <= α.
import { gammaln } from 'simple-statistics';
import { normalQuantile } from './distributions.js';
import { binomialTestHalf } from './paired-tests.js';
import { checkLevel, wilsonInterval } from './summary.js';

/** Binom(k; n, p) for k = 0..n, through log Γ (no overflow for large n). */
export function binomialPmf(n: number, p: number): Float64Array {
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`binomialPmf: n must be a non-negative integer (got ${n})`);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`binomialPmf: p must lie in [0, 1] (got ${p})`);
  const out = new Float64Array(n + 1);
  if (p === 0 || p === 1) {
    out[p === 0 ? 0 : n] = 1;
    return out;
  }
  const lf = gammaln(n + 1);
  for (let k = 0; k <= n; k++) out[k] = Math.exp(lf - gammaln(k + 1) - gammaln(n - k + 1) + k * Math.log(p) + (n - k) * Math.log1p(-p));
  return out;
}

function checkProbability(name: string, p: number): void {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${name} must lie in [0, 1] (got ${p})`);
}

/** The half-width of the 95 % (level) Wilson interval that n trials give on average at accuracy p. */
export function expectedWilsonHalfWidth(n: number, p = 0.5, level = 0.95): number {
  checkLevel(level);
  checkProbability('expectedWilsonHalfWidth: p', p);
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`expectedWilsonHalfWidth: n must be a positive integer (got ${n})`);
  const pmf = binomialPmf(n, p);
  let e = 0;
  for (let k = 0; k <= n; k++) {
    if (pmf[k] < 1e-300) continue;
    const ci = wilsonInterval(k, n, level)!;
    e += pmf[k] * (ci.hi - ci.lo) / 2;
  }
  return e;
}

/** The smallest n whose expected Wilson half-width at accuracy p is at most `halfWidth`. */
export function trialsForHalfWidth(halfWidth: number, p = 0.5, level = 0.95): number {
  if (!(halfWidth > 0 && halfWidth < 0.5)) throw new RangeError(`trialsForHalfWidth: halfWidth must lie in (0, 0.5) (got ${halfWidth})`);
  // the Wald interval's n is a lower bound of the Wilson one's near p = 1/2; step up from below it
  const z = normalQuantile((1 + level) / 2);
  let n = Math.max(1, Math.floor(0.5 * (z * z * Math.max(p * (1 - p), 0.01)) / (halfWidth * halfWidth)));
  while (expectedWilsonHalfWidth(n, p, level) > halfWidth) n++;
  return n;
}

export interface PowerOptions {
  /** Two-sided significance level (default 0.05). */
  alpha?: number;
  /** Wanted power (default 0.8). */
  power?: number;
}

function zs(opts: PowerOptions): { za: number; zb: number } {
  const alpha = opts.alpha ?? 0.05;
  const power = opts.power ?? 0.8;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must lie in (0, 1) (got ${alpha})`);
  if (!(power > 0 && power < 1)) throw new RangeError(`power must lie in (0, 1) (got ${power})`);
  return { za: normalQuantile(1 - alpha / 2), zb: normalQuantile(power) };
}

/** Cases per method to separate accuracies p1 and p2 measured on different cases (unpaired). */
export function unpairedCasesNeeded(p1: number, p2: number, opts: PowerOptions = {}): number {
  checkProbability('unpairedCasesNeeded: p1', p1);
  checkProbability('unpairedCasesNeeded: p2', p2);
  if (p1 === p2) throw new RangeError('unpairedCasesNeeded: p1 and p2 must differ');
  const { za, zb } = zs(opts);
  const pbar = (p1 + p2) / 2;
  const root = za * Math.sqrt(2 * pbar * (1 - pbar)) + zb * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2));
  return Math.ceil((root * root) / ((p1 - p2) ** 2));
}

/**
 * Cases to separate two methods run on the same cases (paired, McNemar) whose accuracies differ by
 * `delta`, when they disagree on a share `discordance` of the cases (delta <= discordance <= 1).
 */
export function pairedCasesNeeded(delta: number, discordance: number, opts: PowerOptions = {}): number {
  const d = Math.abs(delta);
  if (!(d > 0 && d <= 1)) throw new RangeError(`pairedCasesNeeded: delta must lie in (0, 1] (got ${delta})`);
  if (!(discordance >= d && discordance <= 1))
    throw new RangeError(`pairedCasesNeeded: discordance must lie in [|delta|, 1] (got ${discordance} for delta ${delta})`);
  const { za, zb } = zs(opts);
  const root = za * Math.sqrt(discordance) + zb * Math.sqrt(discordance - d * d);
  return Math.ceil((root * root) / (d * d));
}

/**
 * Exact power of the two-sided exact McNemar test on n pairs, where a case is right only for
 * the first method with probability p10 and only for the second with p01.
 */
export function mcnemarExactPower(n: number, p10: number, p01: number, alpha = 0.05): number {
  checkProbability('mcnemarExactPower: p10', p10);
  checkProbability('mcnemarExactPower: p01', p01);
  const psi = p10 + p01;
  if (!(psi > 0 && psi <= 1)) throw new RangeError(`mcnemarExactPower: p10 + p01 must lie in (0, 1] (got ${psi})`);
  const discordant = binomialPmf(n, psi);
  let power = 0;
  for (let m = 1; m <= n; m++) {
    if (discordant[m] < 1e-300) continue;
    const wins = binomialPmf(m, p01 / psi);
    let reject = 0;
    for (let b = 0; b <= m; b++) if (binomialTestHalf(b, m) <= alpha) reject += wins[b];
    power += discordant[m] * reject;
  }
  return power;
}

/** "±0.25": the expected 95 % half-width of an accuracy measured on n cases (at p = 0.5 unless given), for --dry-run. */
export function plannedHalfWidthText(n: number, p = 0.5): string {
  return `±${Number(expectedWilsonHalfWidth(n, p).toFixed(2))}`;
}
