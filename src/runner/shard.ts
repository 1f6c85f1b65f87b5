// Prefix groups and shards. Jobs that share a prefix key (the same prompt, prefilled once) form a
// group that is never split: the scheduler runs a group on one worker, and --shard i/n hands out
// whole groups round-robin in plan order, so the n shards partition the plan exactly.
import type { Job, Shard } from '../core/job.js';

export interface JobGroup {
  key: string;
  jobs: Job[];
}

/** The group key of a job: jobs of one model with the same non-empty prefix key share a group. */
export function groupKey(job: Job): string {
  return job.prefixKey ? `prefix\u0000${job.model}\u0000${job.prefixKey}` : `job\u0000${job.id}`;
}

/** Groups in order of first appearance; jobs keep their plan order inside a group. */
export function groupJobs(jobs: readonly Job[]): JobGroup[] {
  const groups = new Map<string, JobGroup>();
  for (const job of jobs) {
    const key = groupKey(job);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { key, jobs: [] }));
    g.jobs.push(job);
  }
  return [...groups.values()];
}

/** The jobs of shard i of n (plan order kept). */
export function shardJobs(jobs: readonly Job[], shard: Shard | undefined): Job[] {
  if (!shard || shard.count === 1) return [...jobs];
  const mine = new Set<string>();
  groupJobs(jobs).forEach((g, i) => {
    if (i % shard.count === shard.index - 1) for (const j of g.jobs) mine.add(j.id);
  });
  return jobs.filter((j) => mine.has(j.id));
}
