// The plan as --dry-run prints it: per task, the job counts by method and context length, and
// the plan's size and estimated time.
import type { Job, Shard } from '../core/job.js';
import { methodLabel, methodNames } from '../methods/spec.js';
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

function methodRank(job: Job): [number, string, number] {
  return [(methodNames as readonly string[]).indexOf(job.method.method), methodLabel({ ...job.method, budget: undefined }), job.method.budget ?? 0];
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
      const l = methodLabel(j.method);
      if (!labels.has(l)) labels.set(l, methodRank(j));
    }
    const ordered = [...labels.entries()].sort(([, a], [, b]) => a[0] - b[0] || a[1].localeCompare(b[1]) || a[2] - b[2]).map(([l]) => l);
    const rows = ordered.map((label) => {
      const mine = jobs.filter((j) => methodLabel(j.method) === label);
      return [label, ...lengths.map((len) => String(mine.filter((j) => j.contextLen === len).length || '-')), String(mine.length)];
    });
    const datasets = [...new Set(jobs.map((j) => j.dataset).filter((d) => d !== ''))];
    out.push('');
    out.push(`${task}: ${jobs.length} jobs${datasets.length ? ` over ${datasets.length} data set${datasets.length > 1 ? 's' : ''} (${datasets.join(', ')})` : ''}`);
    out.push(formatTable(['method', ...lengths.map((l) => `len=${l}`), 'jobs'], rows));
  }
  out.push('');
  if (p.duplicates) out.push(`${p.duplicates} jobs shared by several task entries are planned once`);
  if (p.skippedAboveLength) out.push(`${p.skippedAboveLength} jobs left out: a default budget above their context length`);
  out.push(p.estimateSeconds !== undefined ? `estimated time: about ${formatDuration(p.estimateSeconds)} on ${p.device}` : 'estimated time: no estimate (a task gives none)');
  return out.join('\n');
}
