// The job model every layer shares: the task names, a job (one measurement unit) with its stable
// id and its label, what a job measures, and a shard of a plan.
import { createHash } from 'node:crypto';
import { methodLabel, type MethodSpec } from '../methods/spec.js';

export const taskNames = ['passkey', 'ppl', 'longbench', 'ruler', 'kernels', 'e2e'] as const;
export type TaskName = (typeof taskNames)[number];

/** Task-specific parameters of a job, flat so that they fit a CSV cell and a JSON key. */
export type CaseParams = Record<string, string | number | boolean>;

/**
 * One (task case, method, budget, length, ...) unit. Jobs are planned in the main process and run
 * in a worker; `id` is a stable hash of everything that defines the job, so a resumed run
 * recognises what it already has.
 */
export interface Job {
  id: string;
  suite: string;
  task: TaskName;
  /** Sub-task or data set: a LongBench task name, a RULER task, 'pg19', ... ('' when none). */
  dataset: string;
  /** Model as the user named it ('default', a registry name or a path). */
  model: string;
  method: MethodSpec;
  /** Context length in tokens (the prompt length the case is built for). */
  contextLen: number;
  /** Passkey / needle depth in percent, when the task has one. */
  depth?: number;
  /** Everything else that identifies the case (trial, sample index, seed, protocol...). */
  params: CaseParams;
  /**
   * Jobs with the same prefix key share a dense prefill: the scheduler sends them to the same
   * worker one after another, and the worker truncates the KV cache back to the prefix instead of
   * prefilling again. '' when the job shares nothing.
   */
  prefixKey: string;
  /** Seed for everything random in the case (keys, sample choice, synthetic data). */
  seed: number;
  /**
   * Set when the job times another implementation beside the engine (scripts/peers, `--peers`):
   * its name ('torch', 'sdpa', 'flashinfer'). Its method is full attention, what the peer
   * computes; its rows' method and label are 'peer:<name>'.
   */
  peer?: string;
}

/** One measured number of a job. The runner adds the job's identifying columns. */
export interface Measurement {
  metric: string;
  value: number;
  /** '' for dimensionless scores. */
  unit: string;
  /** How many observations the value summarises (trials, tokens, timing samples). */
  n: number;
  /** Raw timing samples (for statistical comparisons); absent for deterministic metrics. */
  samples?: number[];
  /** Free-form details kept in the row's `detail` column (e.g. the generated answer). */
  detail?: string;
}

/** Shard i of n of a plan (--shard i/n). */
export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

/** JSON with object keys sorted at every level and undefined members dropped. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** First 16 hex digits of the sha256 of the job's defining fields: the same job has the same id
 *  on any machine (resume, shards and merge rely on that). */
export function jobId(job: Omit<Job, 'id' | 'prefixKey'>): string {
  const { suite, task, dataset, model, method, contextLen, depth, params, seed, peer } = job;
  return sha256Hex(canonicalJson({ suite, task, dataset, model, method, contextLen, depth, params, seed, peer })).slice(0, 16);
}

/** The method column of a job's rows: its method, or 'peer:<name>' for a peer's job. */
export function jobMethod(job: Pick<Job, 'method' | 'peer'>): string {
  return job.peer !== undefined ? `peer:${job.peer}` : job.method.method;
}

/** The label column of a job's rows: the method label, or 'peer:<name>' for a peer's job. */
export function jobMethodLabel(job: Pick<Job, 'method' | 'peer'>): string {
  return job.peer !== undefined ? `peer:${job.peer}` : methodLabel(job.method);
}

/** Job parameters as "k=v;k=v", sorted by key (the `case` column). */
export function caseString(params: CaseParams): string {
  return Object.keys(params).sort().map((k) => `${k}=${String(params[k])}`).join(';');
}

/** The "batch=N" of a case that steps several sequences at once (N > 1); undefined for one. */
export function batchOfCase(caseText: string | undefined): string | undefined {
  return (caseText ?? '').split(';').find((kv) => kv.startsWith('batch=') && kv !== 'batch=1');
}

/** A job's name in progress lines and the journal, built from its fields:
 *  "passkey adamas@64 len=1024 depth=50 trial=0". */
export function jobLabel(job: Pick<Job, 'task' | 'dataset' | 'method' | 'contextLen' | 'depth' | 'params' | 'peer'>): string {
  const parts = [job.dataset ? `${job.task}/${job.dataset}` : job.task, jobMethodLabel(job), `len=${job.contextLen}`];
  if (job.depth !== undefined) parts.push(`depth=${job.depth}`);
  const extra = caseString(job.params);
  if (extra && extra.length <= 40) parts.push(extra);
  return parts.join(' ');
}
