// index.html of a report: the run's provenance, a summary table per task (method × context
// length of the task's primary metric) and the figures. collectSummary() is the data;
// renderIndex() only presents it.
import type { ResultRow } from '../results/columns.js';
import type { RunMeta } from '../results/meta.js';
import { aggregateRows, meanStatistic, type Aggregate } from '../stats/aggregate.js';
import { estimateParts } from '../stats/format.js';
import { metricBase, metricComponent, metricInfo, primaryMetric } from '../stats/metrics.js';
import { compareLabels, type Figure, type SkippedFigure } from './figures.js';

export interface SummaryCell {
  /** Mean (quality metrics) or median (timings). */
  value: number;
  lo: number | null;
  hi: number | null;
  n: number;
}

export interface SummaryTable {
  task: string;
  dataset: string;
  metric: string;
  unit: string;
  /** 'mean [95% Wilson interval]', 'median [IQR]', 'sum of the component medians', ... */
  statistic: string;
  columns: (number | null)[];
  rows: { label: string; cells: (SummaryCell | null)[] }[];
}

function pickMetric(task: string, aggs: Aggregate[]): string | undefined {
  const metrics = [...new Set(aggs.map((a) => a.metric))].sort();
  const preferred = primaryMetric[task];
  if (preferred && metrics.includes(preferred)) return preferred;
  return metrics.find((m) => metricInfo(m)?.kind === 'accuracy') ?? metrics[0];
}

export function collectSummary(rows: readonly ResultRow[], trialKeys?: readonly string[]): SummaryTable[] {
  const aggs = aggregateRows(rows, { trialKeys, collapse: ['depth', 'case'] });
  const tables: SummaryTable[] = [];
  const groups = new Map<string, Aggregate[]>();
  for (const a of aggs) {
    const k = `${a.task}\u241f${a.dataset}`;
    groups.set(k, [...(groups.get(k) ?? []), a]);
  }
  for (const group of groups.values()) {
    const { task, dataset } = group[0];
    const metric = pickMetric(task, group);
    if (!metric) continue;
    const components = componentsOf(metric, group);
    if (components) {
      tables.push(componentTotals(task, dataset, metricBase(metric), components));
      continue;
    }
    const part = group.filter((a) => a.metric === metric);
    const timing = part[0].kind === 'timing';
    const columns = [...new Set(part.map((a) => a.contextLen))].sort((a, b) => (a ?? -1) - (b ?? -1));
    const labels = new Map<string, Aggregate>();
    for (const a of [...part].sort(compareLabels)) if (!labels.has(a.label)) labels.set(a.label, a);
    tables.push({
      task, dataset, metric, unit: part[0].unit,
      statistic: timing ? 'median [IQR]' : meanStatistic(part.map((a) => a.ciMethod)),
      columns,
      rows: [...labels.keys()].map((label) => ({
        label,
        cells: columns.map((c) => {
          const a = part.find((x) => x.label === label && x.contextLen === c);
          if (!a) return null;
          return timing
            ? { value: a.summary.median, lo: a.summary.q1, hi: a.summary.q3, n: a.samples.length }
            : { value: a.value, lo: a.ci?.lo ?? null, hi: a.ci?.hi ?? null, n: a.n };
        }),
      })),
    });
  }
  return tables.sort((a, b) => a.task.localeCompare(b.task) || a.dataset.localeCompare(b.dataset));
}

/** A timing split into components ('latency_us.estimate', ...) without a 'total': its parts. */
function componentsOf(metric: string, group: Aggregate[]): Aggregate[] | undefined {
  if (metricComponent(metric) === '' || metricComponent(metric) === 'total') return undefined;
  const base = metricBase(metric);
  const parts = group.filter((a) => metricBase(a.metric) === base && a.kind === 'timing');
  return parts.some((a) => metricComponent(a.metric) === 'total') ? undefined : parts;
}

/** Per label and length: the sum of the component medians (no interval: the parts are separate runs). */
function componentTotals(task: string, dataset: string, base: string, parts: Aggregate[]): SummaryTable {
  const columns = [...new Set(parts.map((a) => a.contextLen))].sort((a, b) => (a ?? -1) - (b ?? -1));
  const labels = [...new Map([...parts].sort(compareLabels).map((a) => [a.label, a])).keys()];
  return {
    task, dataset, metric: base, unit: parts[0].unit,
    statistic: 'sum of the component medians',
    columns,
    rows: labels.map((label) => ({
      label,
      cells: columns.map((c) => {
        const mine = parts.filter((a) => a.label === label && a.contextLen === c);
        if (mine.length === 0) return null;
        return { value: mine.reduce((s, a) => s + a.summary.median, 0), lo: null, hi: null, n: Math.min(...mine.map((a) => a.samples.length)) };
      }),
    })),
  };
}

// ---- presentation ------------------------------------------------------------------------------

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function cellHtml(c: SummaryCell | null): string {
  if (!c) return '<td class="empty">–</td>';
  const p = estimateParts(c);
  const interval = p.interval ? ` <span class="ci">${p.interval}</span>` : '';
  return `<td>${p.value}${interval} <span class="n">${p.n}</span></td>`;
}

function tableHtml(t: SummaryTable): string {
  const title = `${t.task}${t.dataset ? ` / ${t.dataset}` : ''}: ${metricInfo(t.metric, t.unit)?.title ?? t.metric}, ${t.statistic}`;
  const head = t.columns.map((c) => `<th>${c === null ? '–' : escapeHtml(String(c))}</th>`).join('');
  const body = t.rows.map((r) => `<tr><th scope="row">${escapeHtml(r.label)}</th>${r.cells.map(cellHtml).join('')}</tr>`).join('\n');
  return `<h3>${escapeHtml(title)}</h3>
<table>
<thead><tr><th>method</th>${head}</tr><tr class="sub"><th></th><th colspan="${t.columns.length}">context length (tokens)</th></tr></thead>
<tbody>
${body}
</tbody>
</table>`;
}

export interface IndexInput {
  title: string;
  source: string;
  meta?: Partial<RunMeta>;
  rows: number;
  failedJobs: number;
  tables: SummaryTable[];
  figures: (Figure & { file: string; specFile: string })[];
  skipped: SkippedFigure[];
  generatedAt: string;
}

function metaRows(meta: Partial<RunMeta> | undefined): [string, string][] {
  if (!meta) return [['source', 'a results file (no meta.json)']];
  const models = Object.entries(meta.models ?? {}).map(([name, m]) => `${name}${m.sha256 ? ` (sha256 ${m.sha256.slice(0, 12)})` : ''}`);
  const device = meta.device ? `${meta.device.kind}${meta.device.names?.length ? `: ${meta.device.names.join(', ')}` : ''}` : '';
  const commit = meta.git ? `${meta.git.commit || 'unknown'}${meta.git.dirty ? ' (dirty)' : ''}` : '';
  const out: [string, string][] = [
    ['run', meta.runId ?? ''],
    ['suite', meta.suite ?? ''],
    ['status', meta.status ?? ''],
    ['model', models.join(', ')],
    ['device', device],
    ['backend', meta.backend ?? ''],
    ['commit', commit],
    ['started', meta.startedAt ?? ''],
    ['ended', meta.endedAt ?? ''],
    ['command', meta.commandLine ?? ''],
    ['versions', [meta.package ? `${meta.package.name} ${meta.package.version}` : '', meta.node ? `node ${meta.node}` : ''].filter(Boolean).join(', ')],
    ['seed', meta.seed === undefined ? '' : String(meta.seed)],
  ];
  return out.filter(([, v]) => v !== '');
}

export function renderIndex(input: IndexInput): string {
  const meta = metaRows(input.meta).map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('\n');
  const figures = input.figures.map((f) => `<figure id="${escapeHtml(f.id)}">
<img src="${escapeHtml(f.file)}" alt="${escapeHtml(f.title)}">
<figcaption><b>${escapeHtml(f.title)}.</b> ${escapeHtml(f.description)} <a href="${escapeHtml(f.specFile)}">Vega-Lite spec</a></figcaption>
</figure>`).join('\n');
  const skipped = input.skipped.length
    ? `<h3>Figures not drawn</h3>\n<ul class="skipped">\n${input.skipped.map((s) => `<li><b>${escapeHtml(s.title)}</b>: ${escapeHtml(s.reason)}</li>`).join('\n')}\n</ul>`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(input.title)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; font-variant-numeric: tabular-nums; }
th[scope=row] { text-align: left; }
tr.sub th { font-weight: normal; font-size: 0.85em; color: #666; text-align: center; }
.ci, .n { color: #777; font-size: 0.85em; }
td.empty { color: #bbb; text-align: center; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; }
figcaption { color: #444; max-width: 60em; }
.meta td { text-align: left; }
</style>
</head>
<body>
<h1>${escapeHtml(input.title)}</h1>
<p>${input.rows} result rows from <code>${escapeHtml(input.source)}</code>${input.failedJobs ? `; ${input.failedJobs} failed job(s) left out` : ''}. Generated ${escapeHtml(input.generatedAt)}.</p>
<h2>Run</h2>
<table class="meta">
${meta}
</table>
<h2>Summary</h2>
<p>Quality metrics: mean over trials with a 95% interval: Wilson's for accuracies (pass/fail), a seeded bootstrap (BCa) for means of scores and perplexities; numbers are rounded to two significant digits of the interval's width. Timings: median of the raw samples with the interquartile range. n counts what the task reports: trials, samples or tokens.</p>
${input.tables.length ? input.tables.map(tableHtml).join('\n') : '<p>No rows to summarise.</p>'}
<h2>Figures</h2>
${figures || '<p>No figure could be drawn from this run.</p>'}
${skipped}
</body>
</html>
`;
}
