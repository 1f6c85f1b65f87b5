// Decision stability under threshold jitter: a selection method with thresholds (Adamas' bucket
// edges) is rerun on a case with every threshold moved by +E and by -E. Integer distances tie at
// the budget's cutoff, so a value that crosses a threshold by 1e-6 can change the selected set
// and the answer; a case whose answer is the same at -E, 0 and +E is stable. The task emits, per
// case, the rows jitterMeasurements() returns; summarizeJitter() pools them per method, budget
// and length: how many answers change, the stability with its Wilson interval, and the accuracy
// at -E, 0 and +E.
import type { ResultRow } from '../results/columns.js';
import { aggregateRows, estimateOf, type Aggregate } from './aggregate.js';
import { formatEstimate, type Estimate } from './format.js';

/** The answer of one case at one threshold setting. */
export interface JitterRun {
  answer: string;
  correct: boolean;
}

/** Metric names of the jitter rows. */
export const jitterMetrics = {
  stability: 'stability',
  accuracyPlus: 'accuracy.threshold_plus',
  accuracyMinus: 'accuracy.threshold_minus',
} as const;

export interface JitterMeasurement {
  metric: string;
  value: number;
  unit: string;
  n: number;
}

/** The rows a case adds beside its accuracy (which stays the unperturbed run's). */
export function jitterMeasurements(base: JitterRun, plus: JitterRun, minus: JitterRun): JitterMeasurement[] {
  const stable = plus.answer === base.answer && minus.answer === base.answer;
  return [
    { metric: jitterMetrics.stability, value: stable ? 1 : 0, unit: '', n: 1 },
    { metric: jitterMetrics.accuracyPlus, value: plus.correct ? 1 : 0, unit: '', n: 1 },
    { metric: jitterMetrics.accuracyMinus, value: minus.correct ? 1 : 0, unit: '', n: 1 },
  ];
}

export interface JitterSummary {
  task: string;
  dataset: string;
  model: string;
  label: string;
  budget: number | null;
  contextLen: number | null;
  /** Cases whose answer changed under +E or -E, of `cases`. */
  changed: number;
  cases: number;
  stability: Estimate;
  /** Accuracy at -E, unperturbed, +E (null where the rows are absent). */
  accuracyMinus: Estimate | null;
  accuracy: Estimate | null;
  accuracyPlus: Estimate | null;
}

/** Per method label, budget, length and data set (depths and case parameters pooled). */
export function summarizeJitter(rows: readonly ResultRow[], trialKeys?: readonly string[]): JitterSummary[] {
  const wanted = new Set<string>(['accuracy', ...Object.values(jitterMetrics)]);
  const aggs = aggregateRows(rows.filter((r) => wanted.has(r.metric)), { trialKeys, collapse: ['depth', 'case'] });
  const cell = (a: Aggregate) => [a.task, a.dataset, a.model, a.label, a.budget, a.contextLen].join('\u241f');
  const byCell = new Map<string, Map<string, Aggregate>>();
  for (const a of aggs) byCell.set(cell(a), (byCell.get(cell(a)) ?? new Map()).set(a.metric, a));
  const out: JitterSummary[] = [];
  for (const metrics of byCell.values()) {
    const s = metrics.get(jitterMetrics.stability);
    if (!s) continue;
    const est = (m: string) => {
      const a = metrics.get(m);
      return a ? estimateOf(a) : null;
    };
    out.push({
      task: s.task, dataset: s.dataset, model: s.model, label: s.label, budget: s.budget, contextLen: s.contextLen,
      changed: Math.round(s.n - s.value * s.n),
      cases: s.n,
      stability: estimateOf(s),
      accuracyMinus: est(jitterMetrics.accuracyMinus),
      accuracy: est('accuracy'),
      accuracyPlus: est(jitterMetrics.accuracyPlus),
    });
  }
  return out;
}

function count(e: Estimate | null): string {
  return e === null ? '-' : `${Math.round(e.value * e.n)}/${e.n}`;
}

/** "adamas@64 len=2048: 4 of 11 answers change under ±E; stability 0.64 [0.35, 0.85] n=11; accuracy at -E / 0 / +E: 5/11, 7/11, 5/11". */
export function formatJitter(s: JitterSummary): string {
  const where = [s.label, ...(s.dataset ? [s.dataset] : []), ...(s.contextLen !== null ? [`len=${s.contextLen}`] : [])].join(' ');
  return `${where}: ${s.changed} of ${s.cases} answers change under ±E; stability ${formatEstimate(s.stability)}; ` +
    `accuracy at -E / 0 / +E: ${count(s.accuracyMinus)}, ${count(s.accuracy)}, ${count(s.accuracyPlus)}`;
}
