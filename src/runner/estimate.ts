// The time a plan takes, priced from the work of each job (its task's estimateWork: tokens to
// prefill, decode steps) at this machine's rates (calibration.ts), the way the scheduler runs it:
// the jobs of one prefix key pay their prefill once, each worker loads its model once. The same
// prices set each job's time limit.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Job } from '../core/job.js';
import { cachedPath, findRegistryModel, isCached } from '../model/catalog.js';
import { isSyntheticModel, syntheticModel } from '../model/synthetic.js';
import { readGgufMetadata } from '../native/addon.js';
import type { TaskRegistry } from '../tasks/task-registry.js';
import type { JobWork } from '../tasks/types.js';
import { weightElements, type Rates } from './calibration.js';
import { groupJobs } from './shard.js';

/** Seconds of a job's work; `prefill: false` when a job before it left the same prefix. */
export function workSeconds(work: JobWork, rates: Rates, opts: { prefill?: boolean; scale?: number } = {}): number {
  const scale = opts.scale ?? 1;
  const P = opts.prefill === false ? 0 : work.prefillTokens ?? 0;
  const steps = work.decodeSteps ?? 0;
  const from = work.decodeFrom ?? 0;
  const prefill = P * (rates.prefill.a + rates.prefill.b * P);
  // the mean KV length over the steps is from + steps / 2
  const decode = steps * (rates.decode.c + rates.decode.d * (from + steps / 2));
  return scale * (prefill + decode) + (work.seconds ?? 0) + rates.perJob;
}

/** How much bigger a model is than the one the rates were measured on (1 when unknown). */
export function modelScale(cache: string | undefined, rates: Rates): (model: string) => number {
  const known = new Map<string, number>();
  return (model) => {
    if (known.has(model)) return known.get(model)!;
    let scale = 1;
    try {
      if (isSyntheticModel(model)) {
        if (rates.modelElements > 0) scale = syntheticModel(model).parameters / rates.modelElements;
        known.set(model, scale);
        return scale;
      }
      const entry = findRegistryModel(model);
      const path = entry ? (isCached(entry, cache) ? cachedPath(entry, cache) : undefined) : resolve(model);
      if (rates.modelElements > 0 && path && existsSync(path)) scale = weightElements(readGgufMetadata(path)) / rates.modelElements;
    } catch {
      scale = 1;
    }
    known.set(model, scale);
    return scale;
  };
}

export interface EstimateContext {
  registry: TaskRegistry;
  device: 'cpu' | 'cuda';
  rates: Rates;
  /** Worker processes running at once. */
  slots: number;
  /** Whether the workers load a model. */
  loadsModel: boolean;
  scale?: (model: string) => number;
}

/** Seconds of the plan's jobs on `slots` workers, when every task gives its work (--dry-run). */
export function estimatePlan(jobs: readonly Job[], ctx: EstimateContext): number | undefined {
  let total = 0;
  for (const group of groupJobs(jobs)) {
    for (const [i, job] of group.jobs.entries()) {
      const work = ctx.registry[job.task]?.estimateWork?.(job, ctx.device);
      if (!work) return undefined;
      total += workSeconds(work, ctx.rates, { prefill: i === 0 || job.prefixKey === '', scale: ctx.scale?.(job.model) });
    }
  }
  const models = new Set(jobs.map((j) => j.model)).size;
  const starts = (ctx.loadsModel ? ctx.rates.workerStart : 0.5) * models;
  return total / Math.max(1, ctx.slots) + starts;
}

/** A job with no estimate gets this long without a message before its worker counts as hung. */
export const defaultJobTimeoutSeconds = 1800;
/** The time limit of a job is this many times its estimate, and at least `minJobTimeoutSeconds`. */
export const jobTimeoutFactor = 10;
export const minJobTimeoutSeconds = 60;

/** Seconds a job's worker may stay silent: --job-timeout, else 10x the job's estimate (at least 60 s). */
export function jobTimeoutSeconds(job: Job, ctx: Omit<EstimateContext, 'slots' | 'loadsModel'>, flag?: number): number {
  if (flag !== undefined) return flag;
  const work = ctx.registry[job.task]?.estimateWork?.(job, ctx.device);
  if (!work) return defaultJobTimeoutSeconds;
  return Math.max(minJobTimeoutSeconds, jobTimeoutFactor * workSeconds(work, ctx.rates, { scale: ctx.scale?.(job.model) }));
}
