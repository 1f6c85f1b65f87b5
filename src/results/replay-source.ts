// --replay-selection <run>: the recorded run whose selections a run replays. A job replays the
// recorded job of the same task, case (data set, depth, parameters, seed), model, method (budget
// and knobs included) and length; the suite may differ. Jobs of full attention select nothing and
// run as usual. Every refusal names the flag and, for a job without its twin, the nearest
// recorded job and what differs.
import { existsSync, statSync } from 'node:fs';
import { canonicalJson, jobLabel, type Job } from '../core/job.js';
import { UsageError } from '../core/errors.js';
import { methodLabel } from '../methods/spec.js';
import { okJobIds, readJournalFile } from './journal.js';
import { readMeta, type RunMeta } from './meta.js';
import { readJobs } from './read.js';
import { readJobRecords, recordsPath, type JobRecords } from './records.js';
import { runPath } from './rundir.js';

const flag = '--replay-selection';

/** Everything that makes two jobs the same job for a replay: all that defines it but the suite. */
export function replayKey(job: Job): string {
  const { task, dataset, model, method, contextLen, depth, params, seed } = job;
  return canonicalJson({ task, dataset, model, method, contextLen, depth, params, seed });
}

/** Whether a job's method selects tokens (every method but full attention). */
export function replays(job: Job): boolean {
  return job.method.method !== 'full';
}

export interface ReplaySource {
  dir: string;
  meta: RunMeta;
  jobs: Job[];
  /** replayKey -> the recorded job. */
  byKey: Map<string, Job>;
  /** Jobs whose latest journal line is ok. */
  ok: Set<string>;
}

export function openReplaySource(dir: string): ReplaySource {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${flag} ${dir}: no such run directory`);
  if (!existsSync(runPath(dir, 'meta')) || !existsSync(runPath(dir, 'jobs')))
    throw new UsageError(`${flag} ${dir} is not a run directory (it needs meta.json and jobs.jsonl)`);
  const meta = readMeta(dir);
  const jobs = readJobs(dir);
  const ok = okJobIds(readJournalFile(runPath(dir, 'journal')).entries);
  return { dir, meta, jobs, byKey: new Map(jobs.map((j) => [replayKey(j), j])), ok };
}

interface Field {
  name: string;
  of: (j: Job) => string;
}

const fields: readonly Field[] = [
  { name: 'task', of: (j) => `${j.task}${j.dataset ? `/${j.dataset}` : ''}` },
  { name: 'case', of: (j) => canonicalJson({ depth: j.depth, params: j.params, seed: j.seed }) },
  { name: 'model', of: (j) => j.model },
  { name: 'method', of: (j) => methodLabel({ ...j.method, budget: undefined }) },
  { name: 'budget', of: (j) => String(j.method.budget ?? '') },
  { name: 'length', of: (j) => String(j.contextLen) },
];

/** Why no recorded job matches: the nearest one (most fields equal) and the fields that differ. */
function mismatch(job: Job, source: ReplaySource): string {
  let best: { j: Job; differ: Field[] } | undefined;
  for (const j of source.jobs) {
    const differ = fields.filter((f) => f.of(j) !== f.of(job));
    if (!best || differ.length < best.differ.length) best = { j, differ };
  }
  const head = `${flag} ${source.dir}: the recorded run has no job matching ${jobLabel(job)} (seed ${job.seed}, model ${job.model})`;
  if (!best) return `${head}: it has no jobs`;
  const what = best.differ.map((f) => {
    if (f.name === 'case') return 'case';
    return `${f.name} ${f.of(best!.j) || '-'} (not ${f.of(job) || '-'})`;
  });
  return `${head}; the nearest, ${jobLabel(best.j)}, differs in ${what.join(', ')}`;
}

/** The recorded job of `job`, its journal status ok and its records with selections; UsageError
 *  otherwise. */
export function recordedJob(job: Job, source: ReplaySource): { job: Job; records: () => JobRecords } {
  const twin = source.byKey.get(replayKey(job));
  if (!twin) throw new UsageError(mismatch(job, source), 'replay a run of the same plan: the same command and flags, on the other backend');
  if (!source.ok.has(twin.id))
    throw new UsageError(`${flag} ${source.dir}: the recorded job ${jobLabel(twin)} did not finish ok; resume that run first`);
  const path = recordsPath(source.dir, twin.id);
  if (!existsSync(path))
    throw new UsageError(`${flag} ${source.dir}: no records of ${jobLabel(twin)} (${path}); record its selections with --record-selection`);
  return {
    job: twin,
    records: () => {
      const r = readJobRecords(source.dir, twin.id)!;
      if (!r.selected) throw new UsageError(`${flag} ${source.dir}: ${path} holds no selections; record them with --record-selection`);
      return r;
    },
  };
}

/** Before a run starts: every job that replays has its recorded twin (checked without reading
 *  the records themselves). */
export function checkReplaySource(jobs: readonly Job[], dir: string): ReplaySource {
  const source = openReplaySource(dir);
  for (const job of jobs) if (replays(job)) recordedJob(job, source);
  return source;
}

/** The recorded model's file digest, when the recorded run's meta has it. */
export function recordedModelDigest(source: ReplaySource, model: string): string | undefined {
  return source.meta.models?.[model]?.sha256;
}
