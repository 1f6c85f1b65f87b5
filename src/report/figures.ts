// The report's figures as Vega-Lite specs, built from a run's tidy rows. Each figure either has
// data and becomes a spec, or is listed as skipped with the reason (nothing vanishes silently).
// Timings are plotted as medians of the raw samples; quality metrics as means over trials with
// their 95 % interval.
import type { TopLevelSpec } from 'vega-lite';
import { batchOfCase } from '../core/job.js';
import type { ResultRow } from '../results/columns.js';
import { aggregateRows, type Aggregate } from '../stats/aggregate.js';
import { metricBase, metricComponent, metricInfo, primaryMetric } from '../stats/metrics.js';
import { methodNames } from '../methods/names.js';

export interface Figure {
  id: string;
  title: string;
  description: string;
  spec: TopLevelSpec;
}

export interface SkippedFigure {
  id: string;
  title: string;
  reason: string;
}

export interface FigurePlan {
  figures: Figure[];
  skipped: SkippedFigure[];
}

export interface FigureOptions {
  trialKeys?: readonly string[];
}

const schema = 'https://vega.github.io/schema/vega-lite/v6.json';
const panel = { width: 280, height: 200 };
const methodOrder: readonly string[] = methodNames;
const componentOrder = ['estimate', 'topk', 'attention', 'total'];
const budgetTitle = 'Budget (tokens)';
const contextTitle = 'Context length (tokens)';

// ---- helpers -----------------------------------------------------------------------------------

function uniqueSorted<T>(xs: Iterable<T>, cmp?: (a: T, b: T) => number): T[] {
  return [...new Set(xs)].sort(cmp);
}

const byNumber = (a: number, b: number): number => a - b;

function methodRank(series: string): number {
  const i = methodOrder.findIndex((m) => series === m || series.startsWith(`${m}[`));
  return i < 0 ? methodOrder.length : i;
}

/** full first, then streaming, quest, adamas (variants after their method), then by budget. */
export function compareLabels(a: { series: string; budget: number | null }, b: { series: string; budget: number | null }): number {
  return methodRank(a.series) - methodRank(b.series) || a.series.localeCompare(b.series) || (a.budget ?? -1) - (b.budget ?? -1);
}

function sortedSeries(aggs: readonly Aggregate[]): string[] {
  const seen = new Map<string, Aggregate>();
  for (const a of aggs) if (!seen.has(a.series)) seen.set(a.series, a);
  return [...seen.values()].sort(compareLabels).map((a) => a.series);
}

function sortedLabels(aggs: readonly Aggregate[]): string[] {
  const seen = new Map<string, Aggregate>();
  for (const a of aggs) if (!seen.has(a.label)) seen.set(a.label, a);
  return [...seen.values()].sort(compareLabels).map((a) => a.label);
}

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

/** Timings are summarised by their median, quality metrics by their mean. */
function centre(a: Aggregate): number {
  return a.kind === 'timing' ? a.summary.median : a.value;
}

// Vega's tableau10, then more: a method keeps its color across the figures of a report
const palette = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac',
  '#1f77b4', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** Color encoding of the series present in `present`, colored by their place in the run-wide `domain`. */
function colorFor(domain: string[], present: Iterable<string>, title = 'Method') {
  const here = new Set(present);
  const shown = domain.filter((s) => here.has(s));
  const range = shown.map((s) => palette[domain.indexOf(s) % palette.length]);
  return { field: 'series', type: 'nominal' as const, title, scale: { domain: shown, range } };
}

/** A log2 axis over `values` with some room at both ends, ticks at the values themselves. */
function log2Axis(field: string, title: string, values: number[]) {
  const lo = values[0];
  const hi = values[values.length - 1];
  return {
    field, type: 'quantitative' as const, title,
    scale: { type: 'log', base: 2, domain: [lo / 1.2, hi * 1.2], nice: false },
    axis: { values, format: 'd' },
  };
}

/** Wraps a single-panel spec into a column facet when `field` takes more than one value. */
function facetted(
  base: { title: string; description: string; data: unknown[] },
  inner: Record<string, unknown>,
  facet: { field: string; title: string; sort: unknown[]; columns?: number } | null,
): TopLevelSpec {
  const head = { $schema: schema, title: base.title, description: base.description, data: { values: base.data } };
  if (!facet) return { ...head, ...panel, ...inner } as TopLevelSpec;
  return {
    ...head,
    facet: { field: facet.field, type: 'ordinal', title: facet.title, sort: facet.sort },
    columns: facet.columns ?? 4,
    spec: { ...panel, ...inner },
    resolve: { scale: { y: 'shared' } },
  } as TopLevelSpec;
}

// ---- metric against budget (accuracy, score, perplexity) -----------------------------------------

interface BudgetPoint {
  series: string;
  label: string;
  budget: number | null;
  /** Where the point is drawn: the budget, moved a little per series so that intervals sit side by side. */
  x: number | null;
  context: string;
  value: number;
  lo: number | null;
  hi: number | null;
  n: number;
}

function contextName(len: number | null): string {
  return len === null ? 'all' : String(len);
}

/** Spread of the series around a budget, in octaves (log2 units) between neighbours. */
const dodgeOctaves = 0.07;

/**
 * A metric against the token budget. Several budgets: a log2 axis, one line per method, the
 * points (and their 95 % intervals) of the methods moved apart a little around each budget, full
 * attention a dashed line with its interval as a band. One budget: one point per method (full
 * attention included) side by side, with its interval.
 * `what` names the data ('passkey', 'pg19'); the title says against which budgets.
 */
function vsBudget(id: string, what: string, aggs: Aggregate[], seriesDomain: string[]): Figure {
  const metric = aggs[0].metric;
  const info = metricInfo(metric, aggs[0].unit);
  const yTitle = info?.title ?? metric;
  const budgets = uniqueSorted(aggs.flatMap((a) => (a.budget === null ? [] : [a.budget])), byNumber);
  const sparse = seriesDomain.filter((s) => aggs.some((a) => a.series === s && a.budget !== null));
  const points: BudgetPoint[] = aggs.map((a) => {
    const i = sparse.indexOf(a.series);
    const shift = (i - (sparse.length - 1) / 2) * dodgeOctaves;
    return {
      series: a.series,
      label: a.label,
      budget: a.budget,
      x: a.budget === null ? null : a.budget * 2 ** shift,
      context: contextName(a.contextLen),
      value: a.value,
      lo: a.ci?.lo ?? null,
      hi: a.ci?.hi ?? null,
      n: a.n,
    };
  });
  const contexts = uniqueSorted(aggs.map((a) => a.contextLen ?? -1), byNumber).map((c) => contextName(c < 0 ? null : c));
  const y = { field: 'value', type: 'quantitative', title: yTitle, scale: { zero: false } };
  const color = colorFor(seriesDomain, aggs.map((a) => a.series));
  const tooltip = [
    { field: 'label', title: 'Method' },
    { field: 'context', title: 'Context' },
    { field: 'value', title: yTitle, format: '.4g' },
    { field: 'lo', title: '95% interval, low', format: '.4g' },
    { field: 'hi', title: '95% interval, high', format: '.4g' },
    { field: 'n', title: 'n' },
  ];
  const errorbar = (x: Record<string, unknown>) => ({
    transform: [{ filter: 'datum.lo != null' }],
    mark: { type: 'errorbar', ticks: true, thickness: 1.5 },
    encoding: { x, y: { field: 'lo', type: 'quantitative', title: yTitle }, y2: { field: 'hi' }, color },
  });
  let inner: Record<string, unknown>;
  let title: string;
  let description: string;
  if (budgets.length === 1) {
    const labels = sortedLabels(aggs);
    const x = { field: 'label', type: 'nominal', title: 'Method', sort: labels, axis: { labelAngle: -30 } };
    inner = {
      width: { step: 48 },
      layer: [errorbar(x), { mark: { type: 'point', filled: true, size: 60 }, encoding: { x, y, color, tooltip } }],
    };
    title = `${yTitle} at budget ${budgets[0]}: ${what}`;
    description = `${yTitle} of each method at budget ${budgets[0]} (full attention without a budget), with its 95% interval.`;
  } else {
    const x = { ...log2Axis('x', budgetTitle, budgets), axis: { values: budgets, format: 'd' } };
    inner = {
      layer: [
        {
          // full attention: no budget, its 95 % interval as a band across the panel
          transform: [{ filter: 'datum.budget == null && datum.lo != null' }],
          mark: { type: 'rect', fillOpacity: 0.12 },
          encoding: { y: { field: 'lo', type: 'quantitative', title: yTitle }, y2: { field: 'hi' }, color },
        },
        { ...errorbar(x), transform: [{ filter: 'datum.budget != null && datum.lo != null' }] },
        {
          transform: [{ filter: 'datum.budget != null' }],
          mark: { type: 'line', point: true },
          encoding: { x, y, color, tooltip },
        },
        {
          transform: [{ filter: 'datum.budget == null' }],
          mark: { type: 'rule', strokeDash: [5, 4], strokeWidth: 1.5 },
          encoding: { y, color, tooltip },
        },
      ],
    };
    title = `${yTitle} against budget: ${what}`;
    description = `${yTitle} against the token budget, one line per method, with 95% intervals (methods moved apart a little at each budget); ` +
      'full attention as a dashed line, its interval as a band.';
  }
  const facet = contexts.length > 1 ? { field: 'context', title: contextTitle, sort: contexts } : null;
  return { id, title, description, spec: facetted({ title, description, data: points }, inner, facet) };
}

// ---- passkey heat map --------------------------------------------------------------------------

function passkeyHeatmap(aggs: Aggregate[]): Figure {
  const labels = sortedLabels(aggs);
  const points = aggs.map((a) => ({ label: a.label, context: a.contextLen, depth: a.depth, value: a.value, lo: a.ci?.lo ?? null, hi: a.ci?.hi ?? null, n: a.n }));
  const contexts = uniqueSorted(aggs.map((a) => a.contextLen ?? 0), byNumber);
  const depths = uniqueSorted(aggs.map((a) => a.depth ?? 0), byNumber);
  const title = 'Passkey retrieval: accuracy by needle depth and context length (tokens)';
  const description = 'Accuracy of passkey retrieval for each needle depth (percent of the context) and context length, one panel per method and budget.';
  const inner = {
    width: { step: 44 },
    height: { step: 22 },
    encoding: {
      x: { field: 'context', type: 'ordinal', title: 'Length', sort: contexts },
      y: { field: 'depth', type: 'ordinal', title: 'Depth (%)', sort: depths },
    },
    layer: [
      {
        mark: 'rect',
        encoding: {
          color: { field: 'value', type: 'quantitative', title: 'Accuracy', scale: { domain: [0, 1], scheme: 'redyellowgreen' } },
          tooltip: [
            { field: 'label', title: 'Method' }, { field: 'context', title: 'Context' }, { field: 'depth', title: 'Depth' },
            { field: 'value', title: 'Accuracy', format: '.2f' }, { field: 'lo', title: '95% interval, low', format: '.2f' },
            { field: 'hi', title: '95% interval, high', format: '.2f' }, { field: 'n', title: 'Trials' },
          ],
        },
      },
      { mark: { type: 'text', fontSize: 8 }, encoding: { text: { field: 'value', type: 'quantitative', format: '.1f' } } },
    ],
  };
  const spec = {
    $schema: schema, title, description, data: { values: points },
    facet: { field: 'label', type: 'nominal', title: 'Method', sort: labels },
    columns: Math.min(4, labels.length),
    spec: inner,
    // axes drawn by each panel, not once per grid column: no axis under the empty cells of the last row
    resolve: { axis: { x: 'independent', y: 'independent' } },
  } as TopLevelSpec;
  return { id: 'passkey-heatmap', title, description, spec };
}

// ---- kernel latency broken down -----------------------------------------------------------------

function componentRank(c: string): number {
  const i = componentOrder.indexOf(c);
  return i < 0 ? componentOrder.length : i;
}

function kernelLatency(aggs: Aggregate[], metric: string): Figure {
  // per label: its components; 'total' only where a label has no components
  const byLabel = new Map<string, Aggregate[]>();
  for (const a of aggs) {
    const k = `${a.label}\u241f${a.contextLen}\u241f${a.case}`;
    byLabel.set(k, [...(byLabel.get(k) ?? []), a]);
  }
  const panelOf = (a: Aggregate) => {
    const variant = variantOf(a);
    return variant ? `${variant} · ${contextName(a.contextLen)}` : contextName(a.contextLen);
  };
  const points: { label: string; series: string; component: string; order: number; value: number; panel: string }[] = [];
  for (const group of byLabel.values()) {
    // 'full' is the peer timed beside a sparse step and 'launch' the timer's floor: not parts of it
    const own = group.filter((a) => !['full', 'launch'].includes(metricComponent(a.metric)));
    const parts = own.filter((a) => metricComponent(a.metric) !== 'total');
    for (const a of parts.length > 0 ? parts : own) {
      const component = metricComponent(a.metric) || 'total';
      points.push({ label: a.label, series: a.series, component, order: componentRank(component), value: centre(a), panel: panelOf(a) });
    }
  }
  const labels = sortedLabels(aggs);
  const components = uniqueSorted(points.map((p) => p.component), (a, b) => componentRank(a) - componentRank(b) || a.localeCompare(b));
  const panels = [...aggs].sort((a, b) => variantOf(a).localeCompare(variantOf(b)) || (a.contextLen ?? -1) - (b.contextLen ?? -1)).map(panelOf)
    .filter((p, i, xs) => xs.indexOf(p) === i);
  const info = metricInfo(metric, aggs[0].unit);
  const yTitle = `${(info?.title ?? metric).split(' · ')[0]}, median`;
  const title = 'Kernel latency by component';
  const description = 'Median latency of one decode-step attention call, stacked by component (estimate / top-k / attention), for each method and budget beside full attention.';
  const inner = {
    mark: 'bar',
    encoding: {
      x: { field: 'label', type: 'nominal', title: 'Method', sort: labels, axis: { labelAngle: -40 } },
      y: { field: 'value', type: 'quantitative', title: yTitle, stack: 'zero' },
      color: { field: 'component', type: 'nominal', title: 'Component', scale: { domain: components, scheme: 'set2' } },
      order: { field: 'order', type: 'quantitative' },
      tooltip: [
        { field: 'label', title: 'Method' }, { field: 'component', title: 'Component' },
        { field: 'value', title: yTitle, format: '.4g' }, { field: 'panel', title: 'Context' },
      ],
    },
  };
  const facet = panels.length > 1 ? { field: 'panel', title: contextTitle, sort: panels, columns: 3 } : null;
  return { id: 'kernel-latency', title, description, spec: facetted({ title, description, data: points }, inner, facet) };
}

/** What tells measurements of one method and length apart: the data set (a kernel shape, a
 *  LongBench task) with the batch of sequences when there are several, else the case parameters. */
function variantOf(a: { dataset: string; case: string }): string {
  const batch = batchOfCase(a.case);
  return a.dataset ? (batch ? `${a.dataset} ${batch}` : a.dataset) : a.case;
}

// ---- our full attention beside the peers -------------------------------------------------------

/** The peers' latency against the context length beside our full attention, one panel per shape
 *  (and batch) or case: the same cases timed in the same run by other implementations. */
function vsPeers(id: string, title: string, aggs: Aggregate[], seriesDomain: string[]): Figure | string {
  const shown = aggs.filter((a) => a.contextLen !== null && (a.series === 'full' || a.method.startsWith('peer:')));
  if (!shown.some((a) => a.method.startsWith('peer:'))) return 'no rows of a peer (--peers)';
  const points = shown.map((a) => ({ series: a.series, label: a.label, variant: variantOf(a), context: a.contextLen, value: centre(a), n: a.samples.length }));
  const contexts = uniqueSorted(points.map((p) => p.context!), byNumber);
  const variants = uniqueSorted(points.map((p) => p.variant));
  const info = metricInfo(shown[0].metric, shown[0].unit);
  const yTitle = `${(info?.title ?? shown[0].metric).split(' · ')[0]}, median`;
  const description = `${yTitle} of our full attention and of each peer (timed in the same run, at the same cases) against the context length.`;
  const inner = {
    mark: { type: 'line', point: true },
    encoding: {
      x: log2Axis('context', contextTitle, contexts),
      y: { field: 'value', type: 'quantitative', title: yTitle, scale: { type: 'log' } },
      color: colorFor(seriesDomain, points.map((p) => p.series), 'Implementation'),
      tooltip: [
        { field: 'label', title: 'Implementation' }, { field: 'variant', title: 'Case' }, { field: 'context', title: 'Context' },
        { field: 'value', title: yTitle, format: '.4g' }, { field: 'n', title: 'Samples' },
      ],
    },
  };
  const facet = variants.length > 1 ? { field: 'variant', title: 'Shape / case', sort: variants, columns: 3 } : null;
  return { id, title, description, spec: facetted({ title, description, data: points }, inner, facet) };
}

// ---- speedup against full attention -----------------------------------------------------------

interface Timing {
  label: string;
  series: string;
  variant: string;
  budget: number | null;
  contextLen: number | null;
  case: string;
  value: number;
}

/** Speedup of each method over full attention at the same context length and case. */
function speedup(id: string, title: string, source: string, timings: Timing[], direction: 'higher' | 'lower', seriesDomain: string[]): Figure | string {
  const full = new Map<string, number>();
  for (const t of timings) if (t.budget === null && t.series === 'full') full.set(`${t.contextLen}\u241f${t.case}`, t.value);
  if (full.size === 0) return `no full-attention ${source} to divide by`;
  const points = timings.flatMap((t) => {
    const ref = full.get(`${t.contextLen}\u241f${t.case}`);
    if (t.budget === null || ref === undefined || t.contextLen === null || t.value <= 0 || ref <= 0) return [];
    const s = direction === 'lower' ? ref / t.value : t.value / ref;
    return [{ series: t.series, label: t.label, variant: t.variant, budget: `budget ${t.budget}`, budgetValue: t.budget, context: t.contextLen, case: t.case, value: s }];
  });
  if (points.length === 0) return `no sparse-method ${source} at a context length that full attention also ran`;
  const contexts = uniqueSorted(points.map((p) => p.context), byNumber);
  const budgets = uniqueSorted(points.map((p) => p.budgetValue), byNumber).map((b) => `budget ${b}`);
  const description = `Speedup over full attention (full ${source} / method ${source}) against the context length; above 1 is faster.`;
  const x = log2Axis('context', contextTitle, contexts);
  const inner = {
    layer: [
      { mark: { type: 'rule', strokeDash: [5, 4], color: '#888' }, encoding: { y: { datum: 1, type: 'quantitative' } } },
      {
        mark: { type: 'line', point: true },
        encoding: {
          x,
          y: { field: 'value', type: 'quantitative', title: 'Speedup over full attention (×)' },
          color: colorFor(seriesDomain, points.map((p) => p.series)),
          ...(new Set(points.map((p) => p.variant)).size > 1 ? { strokeDash: { field: 'variant', title: 'Shape / data set' } } : { detail: { field: 'case' } }),
          tooltip: [
            { field: 'label', title: 'Method' }, { field: 'variant', title: 'Shape / data set' }, { field: 'context', title: 'Context' },
            { field: 'value', title: 'Speedup', format: '.2f' },
          ],
        },
      },
    ],
  };
  const facet = budgets.length > 1 ? { field: 'budget', title: budgetTitle, sort: budgets } : null;
  return { id, title, description, spec: facetted({ title, description, data: points }, inner, facet) };
}

// ---- planning ----------------------------------------------------------------------------------

export function planFigures(rows: readonly ResultRow[], opts: FigureOptions = {}): FigurePlan {
  const figures: Figure[] = [];
  const skipped: SkippedFigure[] = [];
  const agg = (rs: readonly ResultRow[], collapse: ('depth' | 'case')[] = []) =>
    aggregateRows(rs, { trialKeys: opts.trialKeys, collapse });
  // centres only: series names and the timings (intervals come with each accuracy figure's own aggregation)
  const all = aggregateRows(rows, { trialKeys: opts.trialKeys, intervals: false });
  const seriesDomain = sortedSeries(all);
  const rowsOf = (task: string, pred: (r: ResultRow) => boolean = () => true) => rows.filter((r) => r.task === task && pred(r));

  // accuracy (and score) against budget, one figure per task and data set
  let accuracyFigures = 0;
  const stability = agg(rows.filter((r) => r.metric === 'stability'), ['depth', 'case']);
  for (const task of ['passkey', 'longbench', 'ruler']) {
    const metric = primaryMetric[task];
    const aggs = agg(rowsOf(task, (r) => r.metric === metric), ['depth', 'case']);
    for (const dataset of uniqueSorted(aggs.map((a) => a.dataset))) {
      const part = aggs.filter((a) => a.dataset === dataset);
      if (!part.some((a) => a.budget !== null)) continue;
      const name = dataset ? `${task} / ${dataset}` : task;
      figures.push(vsBudget(slug(`accuracy-${task}-${dataset}`), name, part, seriesDomain));
      accuracyFigures++;
      // decision stability under threshold jitter, beside the accuracy it qualifies
      const stable = stability.filter((a) => a.task === task && a.dataset === dataset);
      if (stable.some((a) => a.budget !== null)) figures.push(vsBudget(slug(`stability-${task}-${dataset}`), name, stable, seriesDomain));
    }
  }
  if (accuracyFigures === 0)
    skipped.push({ id: 'accuracy', title: 'Accuracy against budget', reason: 'no passkey, LongBench or RULER rows of a sparse method (with a budget)' });

  // passkey heat map
  const passkey = agg(rowsOf('passkey', (r) => r.metric === 'accuracy' && r.depth !== ''), ['case']);
  if (passkey.length > 0) figures.push(passkeyHeatmap(passkey));
  else skipped.push({ id: 'passkey-heatmap', title: 'Passkey heat map', reason: "no passkey 'accuracy' rows with a depth" });

  // perplexity against budget
  const ppl = agg(rowsOf('ppl', (r) => r.metric === 'ppl'), ['depth', 'case']);
  let pplFigures = 0;
  for (const dataset of uniqueSorted(ppl.map((a) => a.dataset))) {
    const part = ppl.filter((a) => a.dataset === dataset);
    if (!part.some((a) => a.budget !== null)) continue;
    figures.push(vsBudget(slug(`perplexity-${dataset}`), dataset || 'ppl', part, seriesDomain));
    pplFigures++;
  }
  if (pplFigures === 0) skipped.push({ id: 'perplexity', title: 'Perplexity against budget', reason: "no 'ppl' rows of a sparse method" });

  // kernel latency by component
  const kernels = all.filter((a) => a.task === 'kernels' && metricComponent(a.metric) !== '' && metricInfo(a.metric, a.unit)?.kind === 'timing');
  const bases = uniqueSorted(kernels.map((a) => metricBase(a.metric)));
  const kernelMetric = bases.find((b) => b === metricBase(primaryMetric.kernels)) ?? bases[0];
  if (kernelMetric) figures.push(kernelLatency(kernels.filter((a) => metricBase(a.metric) === kernelMetric), kernelMetric));
  else skipped.push({ id: 'kernel-latency', title: 'Kernel latency by component', reason: "no kernels rows with component timings (e.g. 'latency_us.estimate')" });

  // speedup against context length: end to end, and kernels
  const e2e = all.filter((a) => a.task === 'e2e' && (a.metric === 'decode_ms_per_token' || a.metric === 'decode_tokens_per_s'));
  const e2eMetric = e2e.some((a) => a.metric === 'decode_ms_per_token') ? 'decode_ms_per_token' : 'decode_tokens_per_s';
  const e2eTimings = e2e.filter((a) => a.metric === e2eMetric).map((a) => ({ ...a, variant: variantOf(a), value: centre(a) }));
  const e2eFig = e2eTimings.length > 0
    ? speedup('speedup-e2e', 'End-to-end decode speedup against context length', 'decode time per token', e2eTimings, metricInfo(e2eMetric)!.direction, seriesDomain)
    : "no e2e 'decode_ms_per_token' rows";
  if (typeof e2eFig === 'string') skipped.push({ id: 'speedup-e2e', title: 'End-to-end speedup', reason: e2eFig });
  else figures.push(e2eFig);

  const kernelTimings = kernelMetric ? kernelTotals(all.filter((a) => a.task === 'kernels' && metricBase(a.metric) === kernelMetric)) : [];
  const kernelFig = kernelTimings.length > 0
    ? speedup('speedup-kernels', 'Kernel speedup against context length', 'kernel latency', kernelTimings, 'lower', seriesDomain)
    : 'no kernel latency rows';
  if (typeof kernelFig === 'string') skipped.push({ id: 'speedup-kernels', title: 'Kernel speedup', reason: kernelFig });
  else figures.push(kernelFig);

  // our full attention beside the peers timed in the same run
  const peerFigures: [string, string, Aggregate[]][] = [
    ['peers-kernels', 'Decode attention: ours beside the peers', all.filter((a) => a.task === 'kernels' && a.metric === primaryMetric.kernels)],
    ['peers-e2e', 'End-to-end decode: ours beside the peers', all.filter((a) => a.task === 'e2e' && a.metric === 'decode_ms_per_token')],
  ];
  for (const [id, title, aggs] of peerFigures) {
    const fig = vsPeers(id, title, aggs, seriesDomain);
    if (typeof fig === 'string') skipped.push({ id, title, reason: fig });
    else figures.push(fig);
  }

  return { figures, skipped };
}

/** Total latency per label, context and case: the 'total' component, else the sum of the parts. */
function kernelTotals(aggs: Aggregate[]): Timing[] {
  const groups = new Map<string, Aggregate[]>();
  for (const a of aggs) {
    const k = `${a.label}\u241f${a.contextLen}\u241f${a.case}`;
    groups.set(k, [...(groups.get(k) ?? []), a]);
  }
  return [...groups.values()].map((g) => {
    const total = g.find((a) => metricComponent(a.metric) === 'total' || metricComponent(a.metric) === '');
    const value = total ? centre(total) : g.reduce((s, a) => s + centre(a), 0);
    const a = g[0];
    return { label: a.label, series: a.series, variant: variantOf(a), budget: a.budget, contextLen: a.contextLen, case: a.case, value };
  });
}
