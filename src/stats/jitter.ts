// Decision stability under threshold jitter: a selection method with thresholds (Adamas' bucket
// edges) is rerun on a case with every threshold moved by +E and by -E. Integer distances tie at
// the budget's cutoff, so a value that crosses a threshold by 1e-6 can change the selected set
// and the answer; a case whose answer is the same at -E, 0 and +E is stable. The task emits, per
// case, the rows jitterMeasurements() returns; summarizeJitter() pools them per method, budget
// and length: how many answers change, the stability with its Wilson interval, and the task's
// score (passkey's accuracy, RULER's and LongBench's score) at -E, 0 and +E.
import type { ResultRow } from '../results/columns.js';
import { aggregateRows, estimateOf, type Aggregate } from './aggregate.js';
import { formatEstimate, formatValue, type Estimate } from './format.js';
import { metricInfo, primaryMetric } from './metrics.js';

/** The answer of one case at one threshold setting, and its score (1/0 for pass/fail). */
export interface JitterRun {
  answer: string;
  value: number;
}

export const stabilityMetric = 'stability';

/** Metric names of the jitter rows of a task whose score is `metric`. */
export function jitterMetrics(metric = 'accuracy'): { stability: string; plus: string; minus: string } {
  return { stability: stabilityMetric, plus: `${metric}.threshold_plus`, minus: `${metric}.threshold_minus` };
}

export interface JitterMeasurement {
  metric: string;
  value: number;
  unit: string;
  n: number;
}

/** The rows a case adds beside its score row `metric` (which stays the unperturbed run's). */
export function jitterMeasurements(base: JitterRun, plus: JitterRun, minus: JitterRun, metric = 'accuracy'): JitterMeasurement[] {
  const names = jitterMetrics(metric);
  const stable = plus.answer === base.answer && minus.answer === base.answer;
  return [
    { metric: names.stability, value: stable ? 1 : 0, unit: '', n: 1 },
    { metric: names.plus, value: plus.value, unit: '', n: 1 },
    { metric: names.minus, value: minus.value, unit: '', n: 1 },
  ];
}

export interface JitterSummary {
  task: string;
  dataset: string;
  model: string;
  label: string;
  budget: number | null;
  contextLen: number | null;
  /** The score the three settings are compared on ('accuracy', 'score'). */
  metric: string;
  /** Cases whose answer changed under +E or -E, of `cases`. */
  changed: number;
  cases: number;
  stability: Estimate;
  /** The score at -E, unperturbed, +E (null where the rows are absent). */
  atMinus: Estimate | null;
  atZero: Estimate | null;
  atPlus: Estimate | null;
}

const scoreOf = (task: string): string => primaryMetric[task] ?? 'accuracy';

/** Per method label, budget, length and data set (depths and case parameters pooled). */
export function summarizeJitter(rows: readonly ResultRow[], trialKeys?: readonly string[]): JitterSummary[] {
  if (!rows.some((r) => r.metric === stabilityMetric)) return []; // no jitter: spare the scores' bootstraps
  const wanted = (r: ResultRow) => {
    const names = jitterMetrics(scoreOf(r.task));
    return [scoreOf(r.task), names.stability, names.plus, names.minus].includes(r.metric);
  };
  const aggs = aggregateRows(rows.filter(wanted), { trialKeys, collapse: ['depth', 'case'] });
  const cell = (a: Aggregate) => [a.task, a.dataset, a.model, a.label, a.budget, a.contextLen].join('\u241f');
  const byCell = new Map<string, Map<string, Aggregate>>();
  for (const a of aggs) byCell.set(cell(a), (byCell.get(cell(a)) ?? new Map()).set(a.metric, a));
  const out: JitterSummary[] = [];
  for (const metrics of byCell.values()) {
    const s = metrics.get(stabilityMetric);
    if (!s) continue;
    const metric = scoreOf(s.task);
    const names = jitterMetrics(metric);
    const est = (m: string) => {
      const a = metrics.get(m);
      return a ? estimateOf(a) : null;
    };
    out.push({
      task: s.task, dataset: s.dataset, model: s.model, label: s.label, budget: s.budget, contextLen: s.contextLen, metric,
      changed: Math.round(s.n - s.value * s.n),
      cases: s.n,
      stability: estimateOf(s),
      atMinus: est(names.minus),
      atZero: est(metric),
      atPlus: est(names.plus),
    });
  }
  return out;
}

/** "5/11" for a proportion, "41.3" for a mean score. */
function scoreText(e: Estimate | null, proportion: boolean): string {
  if (e === null) return '-';
  return proportion ? `${Math.round(e.value * e.n)}/${e.n}` : formatValue(e.value);
}

/** "adamas@64 len=2048: 4 of 11 answers change under ±E; stability 0.64 [0.35, 0.85] n=11; accuracy at -E / 0 / +E: 5/11, 7/11, 5/11". */
export function formatJitter(s: JitterSummary): string {
  const where = [s.label, ...(s.dataset ? [s.dataset] : []), ...(s.contextLen !== null ? [`len=${s.contextLen}`] : [])].join(' ');
  const proportion = metricInfo(s.metric)?.proportion === true;
  return `${where}: ${s.changed} of ${s.cases} answers change under ±E; stability ${formatEstimate(s.stability)}; ` +
    `${s.metric} at -E / 0 / +E: ${[s.atMinus, s.atZero, s.atPlus].map((e) => scoreText(e, proportion)).join(', ')}`;
}
