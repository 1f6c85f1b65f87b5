// The end of a run on the terminal. The summary: per task, one table with a row per method label
// (and batch of sequences, for a kernel step of several) and a column per context length (or
// data set), each cell the task's primary metric
// (src/stats/metrics.ts; the first metric its jobs report when it has none) over the cell's
// cases as src/stats aggregates it: a quality metric as its mean with the 95% interval and n
// ("0.6 [0.23, 0.88] n=5"), a timing as its median with the interquartile range. Under a table,
// the decision stability of each method the run decoded with moved thresholds (--threshold-jitter),
// and for a timing where lower is better (kernels, e2e) each row's speed against full attention
// in the same column and batch. Then the counts and the failed jobs.
import { batchOfCase } from '../core/job.js';
import { methodNames } from '../methods/spec.js';
import type { ResultRow } from '../results/columns.js';
import { aggregateGroup, groupRows, meanStatistic, type Aggregate, type CollapsibleField, type MeasurementKey } from '../stats/aggregate.js';
import { formatEstimate, type Estimate } from '../stats/format.js';
import { formatJitter, summarizeJitter, type JitterSummary } from '../stats/jitter.js';
import { metricInfo, primaryMetric } from '../stats/metrics.js';
import { formatTable } from './terminal.js';

export interface SummaryRow {
  label: string;
  /** The label without the budget. */
  series: string;
  budget?: number;
  /** Per column: the cell's estimate (undefined where no job ran). */
  cells: (Estimate | undefined)[];
}

export interface SummaryTable {
  task: string;
  metric: string;
  unit: string;
  /** 'mean [95% Wilson interval]', 'median [IQR]'. */
  statistic: string;
  columns: string[];
  rows: SummaryRow[];
  /** Decision stability under threshold jitter, per method label and column (none without it). */
  jitter: JitterSummary[];
  /** The jitters E the run used. */
  jitterE: string[];
  /** Lines under the table: cases measured while the GPU throttled, peers that were not measured. */
  notes: string[];
}

/** Where a row was measured, for a note: "adamas@256 llama2-7b len=32768 batch=4". */
function caseName(r: ResultRow): string {
  const batch = batchOfCase(r.case);
  return [r.label || r.method, r.dataset, r.context_len ? `len=${r.context_len}` : '', batch ?? ''].filter((s) => s).join(' ');
}

/** The notes of a task's rows: every throttled case (its `throttled` row is 1), and per peer and
 *  reason the cases that were skipped. */
export function summaryNotes(rows: readonly ResultRow[]): string[] {
  const out: string[] = [];
  const throttled = rows.filter((r) => r.metric === 'throttled' && Number(r.value) > 0).map(caseName);
  if (throttled.length)
    out.push(`THROTTLED (an SM clock sample below 90% of the case's highest; the rows' detail has the clocks): ${[...new Set(throttled)].join(', ')}`);
  const skipped = new Map<string, number>();
  for (const r of rows.filter((x) => x.metric === 'skipped')) {
    const k = `${r.label || r.method}\u241f${r.detail}`;
    skipped.set(k, (skipped.get(k) ?? 0) + 1);
  }
  for (const [k, n] of skipped) {
    const [label, why] = k.split('\u241f');
    out.push(`${label} not measured (${n} case${n > 1 ? 's' : ''}): ${why}`);
  }
  return out;
}

function methodOrder(a: Aggregate): [number, string, number] {
  const i = (methodNames as readonly string[]).indexOf(a.method);
  return [i < 0 ? methodNames.length : i, a.series, a.budget ?? 0];
}

function compareKeys(a: [number, string, number], b: [number, string, number]): number {
  return a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) || a[2] - b[2];
}

/** Column of a measurement: the context length, the data set, or both when both vary. */
function columnOf(a: { dataset: string; contextLen: number | null }, byDataset: boolean, byLength: boolean): string {
  const length = String(a.contextLen ?? '');
  if (byDataset && byLength) return `${a.dataset}@${length}`;
  return byDataset ? a.dataset : length;
}

/** A cell as the table shows it: the mean and its interval, or for a timing the median and IQR. */
function cellEstimate(a: Aggregate): Estimate {
  if (a.kind === 'timing') return { value: a.summary.median, lo: a.summary.q1, hi: a.summary.q3, n: a.samples.length };
  return { value: a.value, lo: a.ci?.lo ?? null, hi: a.ci?.hi ?? null, n: a.n };
}

/** A row's label with its batch where it stepped several sequences: "adamas@256 batch=8". A batch
 *  is another measurement, never pooled with batch 1. */
function rowLabel(r: ResultRow): ResultRow {
  const batch = batchOfCase(r.case);
  return batch ? { ...r, label: `${r.label || r.method} ${batch}` } : r;
}

/** "thresholdJitter=0.00001" in a row's case -> "0.00001". */
function jitterOfCase(c: string | undefined): string | undefined {
  return (c ?? '').split(';').find((kv) => kv.startsWith('thresholdJitter='))?.slice('thresholdJitter='.length);
}

export function summarize(rows: readonly ResultRow[]): SummaryTable[] {
  const tasks: string[] = [];
  for (const r of rows) if (!tasks.includes(r.task)) tasks.push(r.task);
  return tasks.map((task) => {
    const mine = rows.filter((r) => r.task === task);
    const first = mine.find((r) => r.metric === primaryMetric[task]) ?? mine[0];
    const metric = first.metric;
    const picked = mine.filter((r) => r.metric === metric).map(rowLabel);
    const datasets = new Set(picked.map((r) => r.dataset ?? ''));
    const lengths = new Set(picked.map((r) => r.context_len ?? ''));
    const byDataset = datasets.size > 1;
    const byLength = lengths.size > 1 || !byDataset;
    // one measurement a cell: trials, depths and case parameters pooled, and what the columns do not show
    const collapse: CollapsibleField[] = ['depth', 'case', ...(byDataset ? [] : ['dataset' as const]), ...(byLength ? [] : ['contextLen' as const])];
    const cells = new Map<string, { label: string; column: string; ks: string; group: MeasurementKey; rows: ResultRow[] }>();
    for (const [ks, g] of groupRows(picked, { collapse })) {
      const column = columnOf(g.key, byDataset, byLength);
      const at = `${g.key.label}\u241f${column}`;
      const cell = cells.get(at);
      if (cell) cell.rows.push(...g.rows); // another model or unit under one label: pooled
      else cells.set(at, { label: g.key.label, column, ks, group: g.key, rows: [...g.rows] });
    }
    const aggs = [...cells.values()].map((c) => ({ ...c, agg: aggregateGroup(c.ks, c.group, c.rows) }));
    const columns = [...new Set(aggs.map((c) => c.column))];
    if (!byDataset) columns.sort((a, b) => Number(a) - Number(b));
    else columns.sort();
    const labels = new Map<string, Aggregate>();
    for (const { agg } of aggs) if (!labels.has(agg.label)) labels.set(agg.label, agg);
    const ordered = [...labels.values()].sort((a, b) => compareKeys(methodOrder(a), methodOrder(b)));
    const timing = aggs.length > 0 && aggs.every((c) => c.agg.kind === 'timing');
    return {
      task,
      metric,
      unit: first.unit,
      statistic: timing ? 'median [IQR]' : meanStatistic(aggs.map((c) => c.agg.ciMethod)),
      columns,
      rows: ordered.map(({ label, series, budget }) => ({
        label,
        series,
        ...(budget !== null && { budget }),
        cells: columns.map((column) => {
          const found = aggs.find((c) => c.label === label && c.column === column);
          return found ? cellEstimate(found.agg) : undefined;
        }),
      })),
      jitter: summarizeJitter(mine),
      notes: summaryNotes(mine),
      jitterE: [...new Set(mine.filter((r) => r.metric === 'stability').map((r) => jitterOfCase(r.case)).filter((e) => e !== undefined))],
    };
  });
}

/** The stability lines under a task's table ('' when the run moved no thresholds). */
export function formatStability(t: SummaryTable): string {
  if (t.jitter.length === 0) return '';
  const e = t.jitterE.length ? `E = ${t.jitterE.join(', ')}` : 'E';
  return `\n\n${t.task}: decision stability, every threshold moved by +E and by -E (${e}); an answer is what the task scores\n` +
    t.jitter.map((s) => `  ${formatJitter(s)}`).join('\n');
}

/** The header of a task's tables: the method, then "len=<n>" per length (or the data sets). */
function tableHeader(t: SummaryTable): string[] {
  const byLength = t.columns.every((c) => /^\d+$/.test(c));
  return ['method', ...t.columns.map((c) => (byLength ? `len=${c}` : c))];
}

/** " batch=8" of a row label ('' for batch 1). */
function batchSuffix(label: string): string {
  return / batch=\d+$/.exec(label)?.[0] ?? '';
}

/**
 * Full attention's median over each row's, per column and batch ("16.2x": 16 times as fast as
 * full attention; a peer's shows how ours compares with it), for a timing where lower is better
 * ('' otherwise, or without a full-attention row).
 */
export function formatSpeedups(t: SummaryTable): string {
  if (t.statistic !== 'median [IQR]' || metricInfo(t.metric, t.unit)?.direction !== 'lower') return '';
  const isFull = (r: SummaryRow) => r.label.slice(0, r.label.length - batchSuffix(r.label).length) === 'full';
  const full = new Map(t.rows.filter(isFull).map((r) => [batchSuffix(r.label), r]));
  const rows = t.rows.filter((r) => !isFull(r) && full.has(batchSuffix(r.label)));
  if (!rows.length) return '';
  const body = rows.map((r) => {
    const base = full.get(batchSuffix(r.label))!;
    return [r.label, ...r.cells.map((e, i) => {
      const f = base.cells[i];
      return e && f && e.value > 0 ? `${(f.value / e.value).toPrecision(3)}x` : '-';
    })];
  });
  return `\n\n${t.task}: full attention's ${t.metric} over each method's (medians; above 1x: faster than full attention)\n${formatTable(tableHeader(t), body)}`;
}

export function formatSummary(tables: readonly SummaryTable[]): string {
  return tables.map((t) => {
    const body = t.rows.map((r) => [r.label, ...r.cells.map((e) => (e === undefined ? '-' : formatEstimate(e)))]);
    const notes = (t.notes ?? []).map((n) => `\n${n}`).join('');
    return `${t.task}: ${t.metric}${t.unit ? ` (${t.unit})` : ''}, ${t.statistic} and n\n${formatTable(tableHeader(t), body)}${formatSpeedups(t)}${notes}${formatStability(t)}`;
  }).join('\n\n');
}

/** The last lines of a run: how many jobs are ok, where the results are, and the failed jobs
 *  (the first 20) with how to run them again. */
