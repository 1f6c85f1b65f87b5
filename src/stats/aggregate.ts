// Aggregation of tidy rows into one number per measurement: rows that differ only by trial,
// sample index or seed (the "trial keys" of the case column) are one group; quality metrics
// become a mean over trials (weighted by each row's n) with a 95 % interval (Wilson for
// proportions, a seeded BCa bootstrap for means of scores), and timings pool their raw samples
// (Student's t interval of the mean).
import type { ResultRow } from '../results/columns.js';
import { bootstrapMeanInterval } from './bootstrap.js';
import type { Estimate } from './format.js';
import { metricInfo, type Direction, type MetricKind } from './metrics.js';
import { meanInterval, summarize, wilsonInterval, type Interval, type Summary } from './summary.js';

/**
 * Case parameters that only repeat a measurement (another trial, sample, document or seed of the
 * same setting). Groups ignore them; every other case parameter keeps measurements apart.
 * passkey: trial, key (the passkey of that trial); longbench: sample, id; ruler: sample;
 * ppl: book.
 */
export const defaultTrialKeys: readonly string[] = [
  'trial', 'key', 'sample', 'id', 'book', 'sample_index', 'index', 'seed', 'rep', 'repeat', 'doc', 'document',
];

/** What identifies one measurement across runs. */
export interface MeasurementKey {
  task: string;
  dataset: string;
  model: string;
  method: string;
  label: string;
  /** The label without its '@budget' suffix: one line of a chart across budgets. */
  series: string;
  budget: number | null;
  contextLen: number | null;
  depth: number | null;
  /** The case parameters with the trial keys removed ("k=v;k=v", sorted). */
  case: string;
  metric: string;
  unit: string;
}

export interface Aggregate extends MeasurementKey {
  key: string;
  kind: MetricKind | 'unknown';
  direction: Direction | 'unknown';
  /** Mean of the rows' values weighted by their n. */
  value: number;
  /** Sum of the rows' n (trials, tokens, samples...). */
  n: number;
  /** Number of rows aggregated. */
  rows: number;
  /** The rows' values. */
  values: number[];
  /** Raw timing samples of all rows pooled; the rows' values when the rows carry none. */
  samples: number[];
  /** Whether `samples` are raw samples (true) or stand-ins from row values (false). */
  rawSamples: boolean;
  summary: Summary;
  ci: Interval | null;
  /** wilson: proportions; bootstrap: means of scores (BCa, seeded); t: means of timing samples. */
  ciMethod: IntervalMethod;
}

export type IntervalMethod = 'wilson' | 'bootstrap' | 't' | 'none';

/** What the method of an interval is called in a table's heading. */
export const intervalMethodTitle: Readonly<Record<IntervalMethod, string>> = {
  wilson: 'Wilson', bootstrap: 'bootstrap BCa', t: "Student's t", none: '',
};

/** 'mean [95% Wilson interval]' for the methods of a table's intervals (both where it mixes them). */
export function meanStatistic(methods: readonly IntervalMethod[]): string {
  const used = [...new Set(methods.filter((m) => m !== 'none'))].map((m) => intervalMethodTitle[m]);
  return used.length ? `mean [95% ${used.join(' / ')} interval]` : 'mean';
}

export interface AggregateOptions {
  trialKeys?: readonly string[];
  /** Confidence level of the intervals (default 0.95). */
  level?: number;
  /** Key fields to pool over as well (e.g. depth, for a mean over all depths). */
  collapse?: readonly CollapsibleField[];
  /** false: no intervals (ci null), for callers that need only the centres (bootstraps cost time). */
  intervals?: boolean;
}

export type CollapsibleField = 'dataset' | 'contextLen' | 'depth' | 'case';

const keyFields = ['task', 'dataset', 'model', 'label', 'budget', 'contextLen', 'depth', 'case', 'metric'] as const;

function num(s: string | undefined): number | null {
  if (s === undefined || s.trim() === '') return null;
  const v = Number(s);
  return Number.isFinite(v) ? v : null;
}

/** "trial=3;k=64;seed=1" -> "k=64" with the default trial keys. */
export function normalizeCase(c: string, trialKeys: readonly string[] = defaultTrialKeys): string {
  if (!c) return '';
  const drop = new Set(trialKeys);
  return c.split(';').filter((kv) => kv !== '' && !drop.has(kv.split('=', 1)[0])).sort().join(';');
}

/** 'adamas[no-hadamard]@64' with budget 64 -> 'adamas[no-hadamard]'; 'adamas@64 batch=8' -> 'adamas batch=8'. */
export function seriesOf(label: string, budget: string): string {
  const suffix = `@${budget}`;
  if (budget === '') return label;
  if (label.endsWith(suffix)) return label.slice(0, -suffix.length);
  const at = label.indexOf(`${suffix} `);
  return at >= 0 ? label.slice(0, at) + label.slice(at + suffix.length) : label;
}

export function measurementKeyOf(row: ResultRow, trialKeys: readonly string[] = defaultTrialKeys): MeasurementKey {
  return {
    task: row.task,
    dataset: row.dataset ?? '',
    model: row.model,
    method: row.method,
    label: row.label || row.method,
    series: seriesOf(row.label || row.method, row.budget ?? ''),
    budget: num(row.budget),
    contextLen: num(row.context_len),
    depth: num(row.depth),
    case: normalizeCase(row.case ?? '', trialKeys),
    metric: row.metric,
    unit: row.unit ?? '',
  };
}

/** A stable string of the identifying fields (unit excluded: a unit change is not a new measurement). */
export function keyString(k: MeasurementKey): string {
  return keyFields.map((f) => String(k[f] ?? '')).join('\u241f');
}

/** Parses the samples column: numbers separated by spaces ('' -> none). */
export function parseSamples(s: string | undefined): number[] {
  if (!s || s.trim() === '') return [];
  return s.trim().split(/\s+/).map(Number).filter((v) => Number.isFinite(v));
}

export interface RowGroup {
  key: MeasurementKey;
  rows: ResultRow[];
}

/** The rows of each measurement (rows whose value is empty or not a number left out), by key string. */
export function groupRows(rows: readonly ResultRow[], opts: Omit<AggregateOptions, 'level'> = {}): Map<string, RowGroup> {
  const trialKeys = opts.trialKeys ?? defaultTrialKeys;
  const groups = new Map<string, RowGroup>();
  for (const row of rows) {
    const value = Number(row.value);
    if (row.value === '' || !Number.isFinite(value)) continue; // failed or empty measurement
    const key = measurementKeyOf(row, trialKeys);
    for (const f of opts.collapse ?? []) {
      if (f === 'dataset' || f === 'case') key[f] = '';
      else key[f] = null;
    }
    const ks = keyString(key);
    const g = groups.get(ks);
    if (g) g.rows.push(row);
    else groups.set(ks, { key, rows: [row] });
  }
  return groups;
}

export function aggregateRows(rows: readonly ResultRow[], opts: AggregateOptions = {}): Aggregate[] {
  const level = opts.level ?? 0.95;
  const out: Aggregate[] = [];
  for (const [ks, g] of groupRows(rows, opts)) out.push(aggregateGroup(ks, g.key, g.rows, opts.intervals === false ? null : level));
  return out.sort(byMeasurementKey);
}

/** One measurement from its rows (all of one key, values numbers); level null: no interval. */
export function aggregateGroup(ks: string, key: MeasurementKey, rows: readonly ResultRow[], level: number | null = 0.95): Aggregate {
  const values = rows.map((r) => Number(r.value));
  const weights = rows.map((r) => {
    const n = num(r.n);
    return n !== null && n > 0 ? n : 1;
  });
  const n = weights.reduce((s, w) => s + w, 0);
  const value = values.reduce((s, v, i) => s + v * weights[i], 0) / n;
  const raw = rows.flatMap((r) => parseSamples(r.samples));
  const samples = raw.length > 0 ? raw : values;
  const info = metricInfo(key.metric, key.unit);
  const kind: Aggregate['kind'] = info?.kind ?? (raw.length > 0 ? 'timing' : 'unknown');

  const isProportion = info?.proportion === true && values.every((v) => v >= 0 && v <= 1);
  const method: IntervalMethod = level === null ? 'none' : isProportion ? 'wilson' : kind === 'timing' ? 't' : 'bootstrap';
  let ci: Interval | null = null;
  if (level !== null) {
    if (method === 'wilson') ci = wilsonInterval(Math.min(n, Math.max(0, value * n)), n, level);
    else if (method === 't') ci = meanInterval(raw.length > 0 ? raw : values, level);
    // trials (samples, documents) are the units of a quality metric, each weighted by its n
    else ci = bootstrapMeanInterval(values, { level, weights });
  }
  const ciMethod: IntervalMethod = ci ? method : 'none';
  return {
    ...key,
    key: ks,
    kind,
    direction: info?.direction ?? 'unknown',
    value,
    n,
    rows: rows.length,
    values,
    samples,
    rawSamples: raw.length > 0,
    summary: summarize(samples),
    ci,
    ciMethod,
  };
}

/** The aggregate's centre, interval and n, as the tables print them. */
export function estimateOf(a: Aggregate): Estimate {
  return { value: a.value, lo: a.ci?.lo ?? null, hi: a.ci?.hi ?? null, n: a.n };
}

const cmpNum = (a: number | null, b: number | null): number => (a ?? -1) - (b ?? -1);

/** Sort order of measurements: task, data set, model, metric, series, budget, length, depth, case. */
export function byMeasurementKey(a: MeasurementKey, b: MeasurementKey): number {
  return (
    a.task.localeCompare(b.task) ||
    a.dataset.localeCompare(b.dataset) ||
    a.model.localeCompare(b.model) ||
    a.metric.localeCompare(b.metric) ||
    a.series.localeCompare(b.series) ||
    cmpNum(a.budget, b.budget) ||
    cmpNum(a.contextLen, b.contextLen) ||
    cmpNum(a.depth, b.depth) ||
    a.case.localeCompare(b.case)
  );
}
