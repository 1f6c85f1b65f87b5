// An ablation side by side: the baseline's and the ablated variant's mean primary metric per budget
// and length (or data set), from the run's summary table, and their difference.
import type { ResultRow } from '../results/columns.js';
import { summarize } from './run-summary.js';
import { formatNumber, formatTable } from './terminal.js';

export interface AblationRow {
  budget: number;
  column: string;
  baseline?: number;
  ablated?: number;
  difference?: number;
}

/** The baseline's and the ablated variant's primary metric per budget and length (or data set),
 *  from the run's summary table; `baseline` and `ablated` are the two method series. */
export function collectAblation(rows: readonly ResultRow[], baseline: string, ablated: string): { metric: string; rows: AblationRow[] } {
  const table = summarize(rows)[0];
  if (!table) return { metric: '', rows: [] };
  const cells = new Map<string, AblationRow>();
  for (const row of table.rows) {
    const { series, budget } = row;
    if (budget === undefined || (series !== baseline && series !== ablated)) continue;
    table.columns.forEach((column, i) => {
      const value = row.cells[i];
      if (value === undefined) return;
      const key = `${budget}\u0000${column}`;
      const cell = cells.get(key) ?? { budget, column };
      cells.set(key, cell);
      if (series === baseline) cell.baseline = value;
      else cell.ablated = value;
    });
  }
  const order = (c: AblationRow) => table.columns.indexOf(c.column);
  const out = [...cells.values()].sort((x, y) => x.budget - y.budget || order(x) - order(y));
  for (const c of out) if (c.baseline !== undefined && c.ablated !== undefined) c.difference = c.ablated - c.baseline;
  return { metric: table.metric, rows: out };
}

export function formatAblation(task: string, metric: string, baseline: string, ablated: string, rows: readonly AblationRow[]): string {
  const f = (v: number | undefined) => (v === undefined ? '-' : formatNumber(v));
  const numeric = rows.every((r) => /^\d+$/.test(r.column));
  const body = rows.map((r) => [String(r.budget), r.column, f(r.baseline), f(r.ablated),
    r.difference === undefined ? '-' : `${r.difference > 0 ? '+' : ''}${formatNumber(r.difference)}`]);
  return `${task}: mean ${metric}, ${ablated} vs ${baseline} (difference = ablated - baseline)\n` +
    formatTable(['budget', numeric ? 'len' : 'dataset', baseline, ablated, 'difference'], body, 2);
}
