// The plan as --dry-run prints it: per task, the job counts by method and context length, the
// 95% interval a cell of the summary can expect from its planned cases, and the plan's size and
// estimated time.
import { jobMethodLabel, type Job, type Shard } from '../core/job.js';
import { methodLabel, methodNames } from '../methods/spec.js';
import { metricInfo, primaryMetric } from '../stats/metrics.js';
import { expectedWilsonHalfWidth } from '../stats/planning.js';
import { formatTable } from './terminal.js';

export interface PlanDescription {
  suite: string;
  device: 'cpu' | 'cuda';
  totalJobs: number;
  shard?: Shard;
  jobs: readonly Job[];
  skippedAboveLength: number;
  /** Jobs two task entries share, planned once. */
  duplicates?: number;
  /** Sum of the task modules' estimates, when every task of the plan gives one. */
  estimateSeconds?: number;
}

export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** Our methods in the method table's order, then the peers. */
function methodRank(job: Job): [number, string, number] {
  if (job.peer !== undefined) return [methodNames.length, jobMethodLabel(job), 0];
  return [(methodNames as readonly string[]).indexOf(job.method.method), methodLabel({ ...job.method, budget: undefined }), job.method.budget ?? 0];
}

/** Units of the task's primary metric: 1 for a pass/fail accuracy, 100 for a 0..100 score (RULER,
 *  LongBench); undefined where a job is not one case of a mean (perplexity over tokens, timings). */
function scoreScale(task: string): 1 | 100 | undefined {
  const metric = primaryMetric[task];
  if (metric === undefined) return undefined;
  if (metricInfo(metric)?.proportion) return 1;
  return metric === 'score' ? 100 : undefined;
}

/**
 * "expected 95% interval of a cell (method x length): ±0.31 at n=5 cases (Wilson, at accuracy
 * 0.5)": the expected half-width for the planned cases of each summary cell (a method at one
 * length and data set, one job a case). A 0..100 score varies at most as much as pass/fail at 50.
 */
export function plannedIntervalLine(task: string, jobs: readonly Job[]): string | undefined {
  const scale = scoreScale(task);
  if (scale === undefined || jobs.length === 0) return undefined;
  const byDataset = new Set(jobs.map((j) => j.dataset)).size > 1;
  const perCell = new Map<string, number>();
  for (const j of jobs) {
    const cell = `${jobMethodLabel(j)}\u241f${j.contextLen}\u241f${j.dataset}`;
    perCell.set(cell, (perCell.get(cell) ?? 0) + 1);
  }
  const ns = [...new Set(perCell.values())].sort((a, b) => a - b);
  const half = (n: number) => {
    const h = expectedWilsonHalfWidth(n) * scale;
    return `±${scale === 1 ? Number(h.toFixed(2)) : Math.round(h)}`;
  };
  const at = ns.length === 1 ? `${half(ns[0])} at n=${ns[0]} cases` : `${half(ns[0])} at n=${ns[0]} to ${half(ns.at(-1)!)} at n=${ns.at(-1)} cases`;
  const cell = byDataset ? 'method x length x data set' : 'method x length';
  const how = scale === 1 ? 'Wilson, at accuracy 0.5' : 'score points; a 0..100 score varies at most like pass/fail at 50';
  return `expected 95% interval of a cell (${cell}): ${at} (${how})`;
}

/** Per task: a table of job counts by method label (rows) and context length (columns). */
export function formatPlan(p: PlanDescription): string {
  const out: string[] = [];
  const shard = p.shard && p.shard.count > 1 ? `, shard ${p.shard.index}/${p.shard.count}` : '';
  out.push(`plan: suite '${p.suite}', ${p.jobs.length} jobs${shard ? ` (of ${p.totalJobs}${shard})` : ''}, device ${p.device}`);
  const tasks = [...new Set(p.jobs.map((j) => j.task))];
  for (const task of tasks) {
    const jobs = p.jobs.filter((j) => j.task === task);
    const lengths = [...new Set(jobs.map((j) => j.contextLen))].sort((a, b) => a - b);
    const labels = new Map<string, [number, string, number]>();
    for (const j of jobs) {
      const l = jobMethodLabel(j);
      if (!labels.has(l)) labels.set(l, methodRank(j));
    }
    const ordered = [...labels.entries()].sort(([, a], [, b]) => a[0] - b[0] || a[1].localeCompare(b[1]) || a[2] - b[2]).map(([l]) => l);
    const rows = ordered.map((label) => {
      const mine = jobs.filter((j) => jobMethodLabel(j) === label);
      return [label, ...lengths.map((len) => String(mine.filter((j) => j.contextLen === len).length || '-')), String(mine.length)];
    });
    const datasets = [...new Set(jobs.map((j) => j.dataset).filter((d) => d !== ''))];
    out.push('');
    out.push(`${task}: ${jobs.length} jobs${datasets.length ? ` over ${datasets.length} data set${datasets.length > 1 ? 's' : ''} (${datasets.join(', ')})` : ''}`);
    out.push(formatTable(['method', ...lengths.map((l) => `len=${l}`), 'jobs'], rows));
    const interval = plannedIntervalLine(task, jobs);
    if (interval) out.push(interval);
  }
  out.push('');
  if (p.duplicates) out.push(`${p.duplicates} jobs shared by several task entries are planned once`);
  if (p.skippedAboveLength) out.push(`${p.skippedAboveLength} jobs left out: a default budget above their context length`);
  out.push(p.estimateSeconds !== undefined ? `estimated time: about ${formatDuration(p.estimateSeconds)} on ${p.device}` : 'estimated time: no estimate (a task gives none)');
  return out.join('\n');
}
