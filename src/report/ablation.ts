// An ablation side by side: per budget and length (or data set), the default Adamas and the
// ablated variant on the same cases, each with its 95% interval, and the paired test of the
// variant against the default (src/stats/paired.ts: exact McNemar for pass/fail, the sign test
// for scores; the mean difference with its paired-bootstrap interval). Whether the ablation
// changed the metric is decided on Holm-adjusted p-values over the table's cells, so that a table
// of many cells does not find a change by chance alone.
import type { ResultRow } from '../results/columns.js';
import { formatEstimate, formatP, type Estimate } from '../stats/format.js';
import { metricInfo, primaryMetric } from '../stats/metrics.js';
import { holmAdjust } from '../stats/multiple.js';
import { compareSeries, formatPaired, type PairedComparison } from '../stats/paired.js';
import { formatTable } from './terminal.js';

/** Family-wise level at which a cell counts as changed. */
export const ablationAlpha = 0.05;

export interface AblationRow {
  budget: number | null;
  /** The context length, the data set, or 'dataset@length' when both vary. */
  column: string;
  baseline: Estimate;
  ablated: Estimate;
  /** Null when the rows cannot be paired (rows of several trials or tokens, e.g. perplexity). */
  paired: PairedComparison | null;
  /** Holm-adjusted p-value over the table's paired cells. */
  pHolm: number | null;
}

export interface Ablation {
  task: string;
  metric: string;
  baseline: string;
  ablated: string;
  rows: AblationRow[];
}

function metricOf(task: string, rows: readonly ResultRow[]): string {
  const preferred = primaryMetric[task];
  if (preferred && rows.some((r) => r.metric === preferred)) return preferred;
  return rows.find((r) => metricInfo(r.metric, r.unit)?.kind === 'accuracy')?.metric ?? rows[0]?.metric ?? '';
}

/** The ablation of the run's (first) task: `baseline` and `ablated` are the two method series. */
export function collectAblation(rows: readonly ResultRow[], baseline: string, ablated: string): Ablation {
  const task = rows[0]?.task ?? '';
  const mine = rows.filter((r) => r.task === task);
  const metric = metricOf(task, mine);
  const cells = compareSeries(mine, baseline, ablated, { metric });
  const byDataset = new Set(cells.map((c) => c.dataset)).size > 1;
  const byLength = new Set(cells.map((c) => c.contextLen)).size > 1 || !byDataset;
  const column = (c: (typeof cells)[number]) => {
    const length = String(c.contextLen ?? '');
    if (byDataset && byLength) return `${c.dataset}@${length}`;
    return byDataset ? c.dataset : length;
  };
  const pHolm = holmAdjust(cells.map((c) => c.paired?.p ?? null));
  const out = cells.map((c, i) => ({ budget: c.budget, column: column(c), baseline: c.first, ablated: c.second, paired: c.paired, pHolm: pHolm[i] }));
  const numeric = out.every((r) => /^\d+$/.test(r.column));
  out.sort((x, y) => (x.budget ?? 0) - (y.budget ?? 0) || (numeric ? Number(x.column) - Number(y.column) : x.column.localeCompare(y.column)));
  return { task, metric, baseline, ablated, rows: out };
}

/** 'lower' / 'higher' when the Holm-adjusted p-value is below alpha, else 'no'. */
function verdict(r: AblationRow): string {
  if (!r.paired || r.pHolm === null) return 'not tested';
  if (r.pHolm >= ablationAlpha) return 'no';
  return `yes, ${r.paired.difference < 0 ? 'lower' : 'higher'}`;
}

export function formatAblation(a: Ablation): string {
  const numeric = a.rows.every((r) => /^\d+$/.test(r.column));
  const body = a.rows.map((r) => [
    String(r.budget ?? '-'), r.column, formatEstimate(r.baseline), formatEstimate(r.ablated),
    verdict(r),
    r.pHolm === null ? '-' : formatP(r.pHolm),
    r.paired ? formatPaired(r.paired) : 'rows not pairable (several trials or tokens a row)',
  ]);
  const tested = a.rows.filter((r) => r.pHolm !== null).length;
  return `${a.task}: ${a.metric} of ${a.ablated} against ${a.baseline} on the same cases (mean [95% interval] n; ` +
    `difference = ablated - baseline with its paired-bootstrap interval)\n` +
    formatTable(['budget', numeric ? 'len' : 'dataset', a.baseline, a.ablated, 'changed?', 'p (Holm)', 'paired test'], body, 2) +
    `\nchanged: Holm-adjusted p < ${ablationAlpha} over the ${tested} tested cell${tested === 1 ? '' : 's'}`;
}
