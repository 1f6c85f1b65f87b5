// Baseline against current: one verdict per measurement, in the manner of asv and criterion.
//
// Timings (a metric of kind 'timing', or any row with raw samples): the samples of each side are
// pooled; the change is that of the medians (Mann–Whitney) or means (Welch). A change counts only
// when it exceeds `min_effect` AND the test rejects "same distribution" at `alpha`. When the sample
// sizes cannot reach alpha at all (Mann–Whitney with 3 + 3 samples: p >= 0.1), the effect alone
// decides, but only if the relative noise of both sides is below the effect. A large change
// without that evidence is 'noise', and so is a change of a job that ran throttled on either side
// (its `throttled` row is 1: the GPU's clock, not the code, may have moved the time). Metrics of
// the machine itself (copy bandwidth, clocks, the timer's launch floor: `machine` in
// src/stats/metrics.ts) are shown with their change and never judged.
//
// Accuracy metrics are judged per method, budget, length and data set, depths pooled (a depth
// holds a trial or two: no test could see anything there). The trials of both sides are paired
// on their case (src/stats/paired.ts) and tested: exact McNemar for pass/fail, the sign test for
// scores, two-sided, Holm-adjusted over every tested measurement of the comparison so that a
// rerun that changed nothing fails with probability at most `accuracy_alpha`. A significant
// worsening is a regression. The tolerances (abs, rel) fail a comparison beside the test only for
// the same inputs on the CPU, where a run is deterministic and any flip is a change of behaviour;
// elsewhere a change beyond the tolerance that the test cannot confirm is 'noise'. Rows that are
// not single trials (a row of n = 10 trials, a perplexity over n tokens) cannot be paired and are
// judged by the tolerance alone.
import type { ResultRow } from '../results/columns.js';
import { aggregateGroup, groupRows, keyString, type Aggregate, type MeasurementKey } from './aggregate.js';
import { formatP } from './format.js';
import { metricInfo, type Direction, type MetricKind } from './metrics.js';
import { holmAdjust } from './multiple.js';
import { pairedComparison, pairRows, type PairedComparison, type PairedTestName, type Pairing } from './paired.js';
import type { Interval } from './summary.js';
import { twoSampleTest, type TestName } from './tests.js';
import { thresholdFor, type RegressionConfig } from './thresholds.js';

export type Verdict = 'regression' | 'improvement' | 'same' | 'noise' | 'missing' | 'new';
export const verdicts: readonly Verdict[] = ['regression', 'improvement', 'same', 'noise', 'missing', 'new'];

export interface Comparison extends MeasurementKey {
  kind: MetricKind;
  direction: Direction;
  /** The compared centre: median or mean of timing samples, the aggregated value otherwise. */
  baseline: number | null;
  current: number | null;
  /** 95 % intervals of the accuracy values (Wilson or bootstrap); null for timings. */
  ciBaseline: Interval | null;
  ciCurrent: Interval | null;
  /** (current - baseline) / |baseline|; null when a side is absent or the baseline is 0. */
  change: number | null;
  /** current - baseline. */
  delta: number | null;
  /** Paired bootstrap interval of the mean difference of the paired cases. */
  deltaCi: Interval | null;
  /** The test's two-sided p-value. */
  p: number | null;
  /** Accuracy: p Holm-adjusted over the comparison's tested measurements (what is judged). */
  pAdjusted: number | null;
  test: TestName | PairedTestName | 'tolerance' | null;
  nBaseline: number;
  nCurrent: number;
  /** Accuracy: pairs of trials tested (0 when the rows could not be paired). */
  pairs: number;
  /** Accuracy: every pair ran the same inputs (case parameters and seed). */
  sameInputs: boolean;
  /** Relative noise (stdev / mean) of each side's samples (timings). */
  noiseBaseline: number | null;
  noiseCurrent: number | null;
  /** The threshold applied: min_effect (relative) for timings, the absolute tolerance for accuracy. */
  threshold: number | null;
  verdict: Verdict;
  /** Whether this verdict fails the comparison (exit code 1). */
  failing: boolean;
  note: string;
}

export interface CompareResult {
  comparisons: Comparison[];
  counts: Record<Verdict, number>;
  regressions: number;
  /** Accuracy measurements with a paired test: the family of the Holm adjustment. */
  pairedTests: number;
  warnings: string[];
}

export interface CompareOptions {
  /** Compare only this kind of metric. */
  only?: MetricKind;
}

interface Resolved {
  kind: MetricKind;
  direction: Direction;
  assumed: boolean;
}

/** One side's measurement: its aggregate and the rows behind it. */
interface Measured {
  agg: Aggregate;
  rows: ResultRow[];
  r: Resolved;
}

function resolveMetric(task: string, metric: string, unit: string, rawSamples: boolean, config: RegressionConfig): Resolved {
  const t = thresholdFor(config, task, metric);
  const info = metricInfo(metric, unit);
  const kind: MetricKind = t.kind ?? info?.kind ?? (rawSamples ? 'timing' : 'accuracy');
  const known = t.direction ?? info?.direction;
  return { kind, direction: known ?? (kind === 'timing' ? 'lower' : 'higher'), assumed: known === undefined };
}

/** The measurements of one side; accuracy metrics with their depths pooled. */
function measure(rows: readonly ResultRow[], config: RegressionConfig): Map<string, Measured> {
  const merged = new Map<string, { key: MeasurementKey; rows: ResultRow[]; r: Resolved }>();
  for (const g of groupRows(rows, { trialKeys: config.trial_keys }).values()) {
    const raw = g.rows.some((row) => (row.samples ?? '').trim() !== '');
    const r = resolveMetric(g.key.task, g.key.metric, g.key.unit, raw, config);
    const key = r.kind === 'accuracy' ? { ...g.key, depth: null } : g.key;
    const ks = keyString(key);
    const m = merged.get(ks);
    if (m) m.rows.push(...g.rows);
    else merged.set(ks, { key, rows: [...g.rows], r });
  }
  const out = new Map<string, Measured>();
  for (const [ks, m] of merged) out.set(ks, { agg: aggregateGroup(ks, m.key, m.rows), rows: m.rows, r: m.r });
  return out;
}

function relChange(base: number, cur: number): number | null {
  if (base === 0) return cur === 0 ? 0 : null;
  return (cur - base) / Math.abs(base);
}

/** +1 when the change is for the worse, -1 for the better, 0 for none. */
function worseSign(delta: number, direction: Direction): number {
  if (delta === 0) return 0;
  return (direction === 'lower' ? delta > 0 : delta < 0) ? 1 : -1;
}

function judgeTiming(b: Aggregate, c: Aggregate, r: Resolved, config: RegressionConfig): Partial<Comparison> {
  const t = thresholdFor(config, b.task, b.metric);
  const minEffect = t.min_effect ?? config.min_effect;
  const alpha = t.alpha ?? config.alpha;
  const useMedian = config.test === 'mann-whitney';
  const base = useMedian ? b.summary.median : b.summary.mean;
  const cur = useMedian ? c.summary.median : c.summary.mean;
  const change = relChange(base, cur);
  const noiseB = Number.isNaN(b.summary.relNoise) ? null : b.summary.relNoise;
  const noiseC = Number.isNaN(c.summary.relNoise) ? null : c.summary.relNoise;
  const out: Partial<Comparison> = {
    baseline: base, current: cur, change, delta: cur - base, threshold: minEffect,
    noiseBaseline: noiseB, noiseCurrent: noiseC, nBaseline: b.samples.length, nCurrent: c.samples.length,
  };
  const effect = change === null ? Infinity : Math.abs(change);
  const sign = worseSign(cur - base, r.direction);
  const result = twoSampleTest(config.test, b.samples, c.samples);
  out.test = result ? config.test : null;
  out.p = result ? result.p : null;
  if (effect <= minEffect || sign === 0) return { ...out, verdict: 'same' };
  const changed: Comparison['verdict'] = sign > 0 ? 'regression' : 'improvement';
  if (result && result.minP <= alpha) {
    if (result.p <= alpha) return { ...out, verdict: changed };
    return { ...out, verdict: 'noise', note: `p = ${formatP(result.p)} > alpha = ${alpha}` };
  }
  // the test cannot reach alpha with these sample sizes: trust the effect only when both sides are quiet
  const why = result ? `too few samples for p <= ${alpha} (smallest possible p = ${formatP(result.minP)})` : 'too few samples for a test';
  if (noiseB !== null && noiseC !== null && noiseB < effect && noiseC < effect)
    return { ...out, verdict: changed, note: `${why}; decided by effect size (noise ${pct(noiseB)} / ${pct(noiseC)})` };
  return { ...out, verdict: 'noise', note: `${why}; noise unknown or above the effect` };
}

/** An accuracy comparison before the Holm adjustment: the verdict waits for the family's p-values. */
interface PendingAccuracy {
  out: Partial<Comparison>;
  direction: Direction;
  tolerance: number;
  paired: PairedComparison | null;
  pairing: Pairing | null;
  /** Same inputs on the CPU on both sides: the tolerance is a rule too. */
  deterministic: boolean;
}

function toleranceOf(b: Aggregate, config: RegressionConfig): number {
  const t = thresholdFor(config, b.task, b.metric);
  return Math.max(t.abs ?? (t.rel === undefined ? config.default_abs : 0), (t.rel ?? 0) * Math.abs(b.value));
}

function beyond(delta: number, tol: number, base: number): boolean {
  // a hair of floating-point slack, so that tolerance 0.05 accepts a change of exactly 0.05
  return Math.abs(delta) > tol + 1e-12 * Math.max(1, Math.abs(base));
}

function prepareAccuracy(b: Measured, c: Measured, config: RegressionConfig): PendingAccuracy {
  const tolerance = toleranceOf(b.agg, config);
  const delta = c.agg.value - b.agg.value;
  const pairing = pairRows(b.rows, c.rows, config.seed_keys);
  const paired = pairing && pairing.first.length > 0 ? pairedComparison(pairing.first, pairing.second) : null;
  const onCpu = [...b.rows, ...c.rows].every((r) => r.device === 'cpu');
  const out: Partial<Comparison> = {
    baseline: b.agg.value, current: c.agg.value, ciBaseline: b.agg.ci, ciCurrent: c.agg.ci,
    change: relChange(b.agg.value, c.agg.value), delta, threshold: tolerance,
    test: paired ? paired.test : 'tolerance', p: paired ? paired.p : null, deltaCi: paired?.ci ?? null,
    nBaseline: b.agg.n, nCurrent: c.agg.n, pairs: paired?.pairs ?? 0, sameInputs: pairing?.sameInputs ?? false,
  };
  return { out, direction: b.r.direction, tolerance, paired, pairing, deterministic: onCpu && (pairing?.sameInputs ?? false) };
}

function judgeAccuracy(a: PendingAccuracy, pAdjusted: number | null, alpha: number): Partial<Comparison> {
  const { out, paired, pairing } = a;
  const delta = out.delta!;
  const sign = worseSign(delta, a.direction);
  const exceeded = sign !== 0 && beyond(delta, a.tolerance, out.baseline!);
  const byTolerance: Verdict = exceeded ? (sign > 0 ? 'regression' : 'improvement') : 'same';
  if (!paired || pAdjusted === null) {
    const why = pairing ? 'no case in common to pair' : 'rows of several trials cannot be paired';
    return { ...out, verdict: byTolerance, note: exceeded ? `${why}: judged by the tolerance` : '' };
  }
  const partly = pairing && (pairing.unpairedFirst > 0 || pairing.unpairedSecond > 0)
    ? `; ${pairing.unpairedFirst} baseline and ${pairing.unpairedSecond} current trials without a partner` : '';
  const pText = `p = ${formatP(paired.p)}, Holm ${formatP(pAdjusted)}`;
  const counts = `${paired.lower} of ${paired.pairs} pairs lower, ${paired.higher} higher`;
  if (pAdjusted <= alpha) {
    // the sign test's side: more pairs worse than better
    const worse = a.direction === 'higher' ? paired.lower > paired.higher : paired.higher > paired.lower;
    return { ...out, pAdjusted, verdict: worse ? 'regression' : 'improvement', note: `${pText} <= ${alpha}: ${counts}${partly}` };
  }
  if (exceeded && a.deterministic)
    return { ...out, pAdjusted, verdict: byTolerance, note: `same inputs on the CPU: beyond the tolerance ${a.tolerance} (${pText})${partly}` };
  if (exceeded) {
    const reach = paired.minP > alpha ? `; ${paired.pairs} pairs cannot reach p <= ${alpha}` : '';
    return { ...out, pAdjusted, verdict: 'noise', note: `beyond the tolerance but not significant (${pText} > ${alpha})${reach}${partly}` };
  }
  return { ...out, pAdjusted, verdict: 'same', note: partly ? partly.slice(2) : '' };
}

/** A change of a metric of the machine is not the code's: 'noise', with the reason. */
function unlessMachine(judged: Partial<Comparison>, m: Measured): Partial<Comparison> {
  if (judged.verdict !== 'regression' && judged.verdict !== 'improvement') return judged;
  if (!metricInfo(m.agg.metric)?.machine) return judged;
  const why = `a property of the machine, not of the code: a ${judged.verdict} is not judged`;
  return { ...judged, verdict: 'noise', note: judged.note ? `${why}; ${judged.note}` : why };
}

/** Jobs of a run whose GPU throttled while they ran (their `throttled` row is above 0). */
function throttledJobs(rows: readonly ResultRow[]): Set<string> {
  return new Set(rows.filter((r) => r.metric === 'throttled' && Number(r.value) > 0).map((r) => r.job_id ?? ''));
}

/** A timing change of a throttled job is not judged: 'noise', with the side named. */
function unlessThrottled(judged: Partial<Comparison>, b: Measured, c: Measured, tb: Set<string>, tc: Set<string>): Partial<Comparison> {
  if (judged.verdict !== 'regression' && judged.verdict !== 'improvement') return judged;
  const sides = [b.rows.some((r) => tb.has(r.job_id ?? '')) && 'baseline', c.rows.some((r) => tc.has(r.job_id ?? '')) && 'current'].filter(Boolean);
  if (!sides.length) return judged;
  const why = `the ${sides.join(' and the ')} ran throttled (an SM clock sample below 90% of its highest): a ${judged.verdict} is not judged`;
  return { ...judged, verdict: 'noise', note: judged.note ? `${why}; ${judged.note}` : why };
}

export function compareRows(baselineRows: readonly ResultRow[], currentRows: readonly ResultRow[], config: RegressionConfig, opts: CompareOptions = {}): CompareResult {
  const baseline = measure(baselineRows, config);
  const current = measure(currentRows, config);
  const throttledBaseline = throttledJobs(baselineRows);
  const throttledCurrent = throttledJobs(currentRows);
  const warnings: string[] = [];
  const assumedWarned = new Set<string>();

  const keep = (m: Measured): boolean => {
    if (thresholdFor(config, m.agg.task, m.agg.metric).ignore) return false;
    return opts.only === undefined || m.r.kind === opts.only;
  };
  const warnAssumed = (m: Measured): void => {
    const { agg: a, r } = m;
    if (!r.assumed || assumedWarned.has(a.metric)) return;
    assumedWarned.add(a.metric);
    warnings.push(
      `metric '${a.metric}' is not in the metric table; treated as ${r.kind}, ${r.direction} is better ` +
        `(set "metrics": {"${a.metric}": {"direction": ..., "kind": ...}} in the regression config)`,
    );
  };
  const blank = (m: Measured): Comparison => ({
    ...keyOf(m.agg), kind: m.r.kind, direction: m.r.direction, baseline: null, current: null, ciBaseline: null, ciCurrent: null,
    change: null, delta: null, deltaCi: null, p: null, pAdjusted: null, test: null, nBaseline: 0, nCurrent: 0, pairs: 0,
    sameInputs: false, noiseBaseline: null, noiseCurrent: null, threshold: null, verdict: 'same', failing: false, note: '',
  });
  const centre = (m: Measured) => (m.r.kind === 'timing' ? m.agg.summary.median : m.agg.value);

  const out: Comparison[] = [];
  const pending: { index: number; accuracy: PendingAccuracy }[] = [];
  for (const [ks, b] of baseline) {
    if (!keep(b)) continue;
    warnAssumed(b);
    const c = current.get(ks);
    if (!c) {
      const failing = config.missing === 'regression';
      out.push({ ...blank(b), baseline: centre(b), ciBaseline: b.r.kind === 'timing' ? null : b.agg.ci, nBaseline: b.agg.n, verdict: 'missing', failing, note: 'not in the current run' });
      continue;
    }
    if (b.r.kind === 'timing') {
      const judged = unlessMachine(unlessThrottled(judgeTiming(b.agg, c.agg, b.r, config), b, c, throttledBaseline, throttledCurrent), b);
      const verdict = judged.verdict ?? 'same';
      out.push({ ...blank(b), ...judged, verdict, failing: verdict === 'regression', note: judged.note ?? '' });
    } else {
      pending.push({ index: out.length, accuracy: prepareAccuracy(b, c, config) });
      out.push(blank(b));
    }
  }
  for (const [ks, c] of current) {
    if (baseline.has(ks) || !keep(c)) continue;
    warnAssumed(c);
    out.push({ ...blank(c), current: centre(c), ciCurrent: c.r.kind === 'timing' ? null : c.agg.ci, nCurrent: c.agg.n, verdict: 'new', note: 'not in the baseline' });
  }

  const adjusted = holmAdjust(pending.map((x) => x.accuracy.paired?.p ?? null));
  pending.forEach(({ index, accuracy }, i) => {
    const judged = judgeAccuracy(accuracy, adjusted[i], config.accuracy_alpha);
    const verdict = judged.verdict ?? 'same';
    out[index] = { ...out[index], ...judged, verdict, failing: verdict === 'regression', note: judged.note ?? '' };
  });

  const counts = Object.fromEntries(verdicts.map((v) => [v, 0])) as Record<Verdict, number>;
  for (const c of out) counts[c.verdict]++;
  return {
    comparisons: out, counts, regressions: out.filter((c) => c.failing).length,
    pairedTests: adjusted.filter((p) => p !== null).length, warnings,
  };
}

function keyOf(a: Aggregate): MeasurementKey {
  return {
    task: a.task, dataset: a.dataset, model: a.model, method: a.method, label: a.label, series: a.series,
    budget: a.budget, contextLen: a.contextLen, depth: a.depth, case: a.case, metric: a.metric, unit: a.unit,
  };
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}
