// The end of a run on the terminal. The summary: per task, one table with a row per method label
// and a column per context length (or data set), each cell the mean of the task's primary metric
// (src/stats/metrics.ts; the first metric its jobs report when it has none), as src/stats
// aggregates it. Then the counts and the failed jobs.
import { methodNames } from '../methods/spec.js';
import type { ResultRow } from '../results/columns.js';
import type { JournalEntry } from '../results/journal.js';
import { aggregateRows, type Aggregate } from '../stats/aggregate.js';
import { primaryMetric } from '../stats/metrics.js';
import { formatNumber, formatTable } from './terminal.js';

export interface SummaryTable {
  task: string;
  metric: string;
  unit: string;
  columns: string[];
  /** A row per method label: the label, its series (the label without the budget) and budget, and
   *  per column the mean (undefined where no job ran). */
  rows: { label: string; series: string; budget?: number; cells: (number | undefined)[]; n: number[] }[];
}

function methodOrder(a: Aggregate): [number, string, number] {
  const i = (methodNames as readonly string[]).indexOf(a.method);
  return [i < 0 ? methodNames.length : i, a.series, a.budget ?? 0];
}

function compareKeys(a: [number, string, number], b: [number, string, number]): number {
  return a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) || a[2] - b[2];
}

/** Column of a measurement: the context length, the data set, or both when both vary. */
function columnOf(a: Aggregate, byDataset: boolean, byLength: boolean): string {
  const length = String(a.contextLen ?? '');
  if (byDataset && byLength) return `${a.dataset}@${length}`;
  return byDataset ? a.dataset : length;
}

export function summarize(rows: readonly ResultRow[]): SummaryTable[] {
  const tasks: string[] = [];
  for (const r of rows) if (!tasks.includes(r.task)) tasks.push(r.task);
  return tasks.map((task) => {
    const mine = rows.filter((r) => r.task === task);
    const first = mine.find((r) => r.metric === primaryMetric[task]) ?? mine[0];
    const metric = first.metric;
    // the statistics' aggregation: trials, depths and case parameters pooled, means weighted by n
    const sel = aggregateRows(mine.filter((r) => r.metric === metric), { collapse: ['depth', 'case'] });
    const byDataset = new Set(sel.map((a) => a.dataset)).size > 1;
    const byLength = new Set(sel.map((a) => a.contextLen)).size > 1 || !byDataset;
    const columns = [...new Set(sel.map((a) => columnOf(a, byDataset, byLength)))];
    if (!byDataset) columns.sort((a, b) => Number(a) - Number(b));
    else columns.sort();
    const labels = new Map<string, Aggregate>();
    for (const a of sel) if (!labels.has(a.label)) labels.set(a.label, a);
    const ordered = [...labels.values()].sort((a, b) => compareKeys(methodOrder(a), methodOrder(b)));
    return {
      task,
      metric,
      unit: first.unit,
      columns,
      rows: ordered.map(({ label, series, budget }) => {
        const cells = columns.map((c) => sel.filter((a) => a.label === label && columnOf(a, byDataset, byLength) === c));
        return {
          label,
          series,
          ...(budget !== null && { budget }),
          cells: cells.map((found) => (found.length ? found.reduce((s, a) => s + a.value * a.n, 0) / found.reduce((s, a) => s + a.n, 0) : undefined)),
          n: cells.map((found) => found.reduce((s, a) => s + a.rows, 0)),
        };
      }),
    };
  });
}

export function formatSummary(tables: readonly SummaryTable[]): string {
  return tables.map((t) => {
    const byLength = t.columns.every((c) => /^\d+$/.test(c));
    const header = ['method', ...t.columns.map((c) => (byLength ? `len=${c}` : c))];
    const body = t.rows.map((r) => [r.label, ...r.cells.map((v) => (v === undefined ? '-' : formatNumber(v)))]);
    return `${t.task}: mean ${t.metric}${t.unit ? ` (${t.unit})` : ''}\n${formatTable(header, body)}`;
  }).join('\n\n');
}

/** The last lines of a run: how many jobs are ok, where the results are, and the failed jobs
 *  (the first 20) with how to run them again. */
export function formatRunEnding(r: { ok: number; total: number; failures: readonly JournalEntry[]; results: string; dir: string }): string {
  const lines = [`\n${r.ok} of ${r.total} jobs ok${r.failures.length ? `, ${r.failures.length} failed` : ''}; results: ${r.results}`];
  if (r.failures.length) {
    lines.push('failed jobs:');
    for (const f of r.failures.slice(0, 20)) lines.push(`  ${f.label} [${f.jobId}]: ${f.error?.split('\n', 1)[0] ?? 'failed'}`);
    if (r.failures.length > 20) lines.push(`  ... and ${r.failures.length - 20} more (see journal.jsonl)`);
    lines.push(`retry them with: adamas-bench run --resume ${r.dir}`);
  }
  return lines.join('\n');
}
