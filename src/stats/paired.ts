// Two measurements on the same cases: the rows of a baseline and a current run, or of two methods
// in one run, matched case by case; the sign test on the pairs (exact McNemar for pass/fail) and
// the mean difference with its paired-bootstrap interval (BCa over the per-case differences).
//
// A case is one row of one trial: its depth and case parameters name it. Two runs with different
// seeds draw different passkeys for the same (length, depth, trial); the seed keys (passkey's
// `key`) are then left out of the match, and the pairs are trials of the same setting rather
// than the same inputs. `sameInputs` tells the two apart.
import type { ResultRow } from '../results/columns.js';
import {
  aggregateGroup, byMeasurementKey, estimateOf, groupRows, keyString, type MeasurementKey,
} from './aggregate.js';
import { bootstrapMeanInterval } from './bootstrap.js';
import { formatDifference, formatP, type Estimate } from './format.js';
import { signTest } from './paired-tests.js';
import type { Interval } from './summary.js';

/** Case parameters drawn from the seed rather than naming the case: the passkey of a trial. */
export const defaultSeedKeys: readonly string[] = ['key'];

export interface Pairing {
  /** Values of the paired rows, pair i = (first[i], second[i]). */
  first: number[];
  second: number[];
  /** Every pair has the same case parameters (seed keys included) and the same seed. */
  sameInputs: boolean;
  /** Rows left without a partner: absent on the other side, or ambiguous (two rows, one case). */
  unpairedFirst: number;
  unpairedSecond: number;
}

/** Rows that are not single trials cannot be paired (a row of n = 10 trials is 10 cases in one). */
export function isTrialRow(row: ResultRow): boolean {
  return (row.n === '' || row.n === undefined || Number(row.n) === 1) && row.value !== '' && Number.isFinite(Number(row.value));
}

function identity(row: ResultRow, drop: ReadonlySet<string>): string {
  const params = (row.case ?? '').split(';').filter((kv) => kv !== '' && !drop.has(kv.split('=', 1)[0])).sort();
  return `${row.depth ?? ''}\u241f${params.join(';')}`;
}

/** identity -> the one row of that identity; identities of two or more rows are ambiguous. */
function byIdentity(rows: readonly ResultRow[], drop: ReadonlySet<string>): { unique: Map<string, ResultRow>; ambiguous: number } {
  const seen = new Map<string, ResultRow[]>();
  for (const r of rows) {
    const id = identity(r, drop);
    seen.set(id, [...(seen.get(id) ?? []), r]);
  }
  const unique = new Map<string, ResultRow>();
  let ambiguous = 0;
  for (const [id, rs] of seen) {
    if (rs.length === 1) unique.set(id, rs[0]);
    else ambiguous += rs.length;
  }
  return { unique, ambiguous };
}

function matchOn(first: readonly ResultRow[], second: readonly ResultRow[], drop: ReadonlySet<string>): { pairs: [ResultRow, ResultRow][]; unpairedFirst: number; unpairedSecond: number } {
  const a = byIdentity(first, drop);
  const b = byIdentity(second, drop);
  const pairs: [ResultRow, ResultRow][] = [];
  for (const [id, row] of a.unique) {
    const other = b.unique.get(id);
    if (other) pairs.push([row, other]);
  }
  return { pairs, unpairedFirst: first.length - pairs.length, unpairedSecond: second.length - pairs.length };
}

/**
 * Pairs the trial rows of one measurement on two sides. The whole case identity is tried first
 * (the same inputs); when that leaves rows unmatched, the identity without the seed keys.
 * Null when a row is not a single trial.
 */
export function pairRows(first: readonly ResultRow[], second: readonly ResultRow[], seedKeys: readonly string[] = defaultSeedKeys): Pairing | null {
  if (![...first, ...second].every(isTrialRow)) return null;
  let m = matchOn(first, second, new Set());
  if (m.unpairedFirst > 0 || m.unpairedSecond > 0) {
    const loose = matchOn(first, second, new Set(seedKeys));
    if (loose.pairs.length > m.pairs.length) m = loose;
  }
  const sameInputs = m.pairs.length > 0 && m.pairs.every(([x, y]) => identity(x, new Set()) === identity(y, new Set()) && x.seed === y.seed);
  return {
    first: m.pairs.map(([x]) => Number(x.value)),
    second: m.pairs.map(([, y]) => Number(y.value)),
    sameInputs,
    unpairedFirst: m.unpairedFirst,
    unpairedSecond: m.unpairedSecond,
  };
}

export type PairedTestName = 'mcnemar-exact' | 'sign';

export interface PairedComparison {
  pairs: number;
  /** Mean of second - first. */
  difference: number;
  /** Paired bootstrap (BCa) interval of the mean difference; null for fewer than two pairs. */
  ci: Interval | null;
  /** mcnemar-exact for pass/fail pairs, sign for scores (the same exact binomial test). */
  test: PairedTestName;
  /** Two-sided p-value. */
  p: number;
  /** The smallest p-value this many pairs can give. */
  minP: number;
  /** Pairs where the second value is higher, lower, equal. */
  higher: number;
  lower: number;
  ties: number;
}

export interface PairedOptions {
  level?: number;
  seed?: number;
  resamples?: number;
}

const isBinary = (xs: readonly number[]) => xs.every((v) => v === 0 || v === 1);

/** The paired comparison of second against first (at least one pair). */
export function pairedComparison(first: readonly number[], second: readonly number[], opts: PairedOptions = {}): PairedComparison {
  if (first.length === 0) throw new RangeError('pairedComparison: no pairs');
  const t = signTest(first, second);
  const diffs = first.map((x, i) => second[i] - x);
  const difference = diffs.reduce((s, d) => s + d, 0) / diffs.length;
  return {
    pairs: first.length,
    difference,
    ci: bootstrapMeanInterval(diffs, opts),
    test: isBinary(first) && isBinary(second) ? 'mcnemar-exact' : 'sign',
    p: t.p,
    minP: t.minP,
    higher: t.higher,
    lower: t.lower,
    ties: t.ties,
  };
}

const testTitle: Readonly<Record<PairedTestName, string>> = { 'mcnemar-exact': 'exact McNemar', sign: 'sign test' };

/** "−0.18 [−0.36, 0], p = 0.5 (exact McNemar; 11 pairs: 0 higher, 2 lower)". */
export function formatPaired(c: PairedComparison): string {
  return `${formatDifference(c.difference, c.ci?.lo ?? null, c.ci?.hi ?? null)}, p = ${formatP(c.p)} ` +
    `(${testTitle[c.test]}; ${c.pairs} pairs: ${c.higher} higher, ${c.lower} lower)`;
}

// ---- two series of one run (ablate: a method and its variant) ---------------------------------

export interface SeriesComparison {
  task: string;
  dataset: string;
  model: string;
  metric: string;
  budget: number | null;
  contextLen: number | null;
  /** Case parameters other than the trial keys (the setting). */
  case: string;
  first: Estimate;
  second: Estimate;
  /** Null when the rows could not be paired (no common case, or rows of several trials). */
  paired: PairedComparison | null;
}

export interface SeriesOptions extends PairedOptions {
  /** Only this metric (default: every metric both series report). */
  metric?: string;
  trialKeys?: readonly string[];
}

/**
 * `second` against `first` (two series of one run: a method label without its '@budget') at each
 * budget, length, data set and setting, depths pooled, trials paired on their case.
 */
export function compareSeries(rows: readonly ResultRow[], first: string, second: string, opts: SeriesOptions = {}): SeriesComparison[] {
  const mine = rows.filter((r) => opts.metric === undefined || r.metric === opts.metric);
  const groups = groupRows(mine, { trialKeys: opts.trialKeys, collapse: ['depth'] });
  // the same setting on both sides: the key without the series
  const settings = new Map<string, { key: MeasurementKey; sides: Partial<Record<'first' | 'second', { ks: string; key: MeasurementKey; rows: ResultRow[] }>> }>();
  for (const [ks, g] of groups) {
    const side = g.key.series === first ? 'first' : g.key.series === second ? 'second' : undefined;
    if (!side) continue;
    const setting = keyString({ ...g.key, label: '', method: '', series: '' });
    const s = settings.get(setting) ?? { key: g.key, sides: {} };
    s.sides[side] = { ks, key: g.key, rows: g.rows };
    settings.set(setting, s);
  }
  const out: SeriesComparison[] = [];
  for (const { key, sides } of [...settings.values()].sort((a, b) => byMeasurementKey(a.key, b.key))) {
    if (!sides.first || !sides.second) continue;
    const a = aggregateGroup(sides.first.ks, sides.first.key, sides.first.rows, opts.level);
    const b = aggregateGroup(sides.second.ks, sides.second.key, sides.second.rows, opts.level);
    const pairing = pairRows(sides.first.rows, sides.second.rows);
    out.push({
      task: key.task, dataset: key.dataset, model: key.model, metric: key.metric, budget: key.budget, contextLen: key.contextLen, case: key.case,
      first: estimateOf(a),
      second: estimateOf(b),
      paired: pairing && pairing.first.length > 0 ? pairedComparison(pairing.first, pairing.second, opts) : null,
    });
  }
  return out;
}
