// Planning: expanded suite -> jobs, each with its stable id (core/job.ts), so the same command
// plans the same jobs on any machine.
import { HarnessError, UsageError } from '../core/errors.js';
import { jobId, sha256Hex, type Job } from '../core/job.js';
import { makeSpec, methodLabel, type MethodSpec } from '../methods/spec.js';
import type { PlannedJob } from '../tasks/types.js';
import type { ExpandedTask } from './expand.js';

/** Identifies a plan: the hash of its sorted job ids (shards of one plan share it). */
export function planHash(jobs: readonly Job[]): string {
  return sha256Hex(jobs.map((j) => j.id).sort().join('\n')).slice(0, 16);
}

export interface PlanContextInput {
  device: 'cpu' | 'cuda';
  dataDir?: string;
  /** The trained context length of a model, when it can be read without loading the model. */
  modelContextLength?: (model: string) => number | undefined;
  dryRun?: boolean;
}

export interface Plan {
  jobs: Job[];
  hash: string;
  /** Jobs left out because a default budget exceeded their context length. */
  skippedAboveLength: number;
  /** Jobs planned by more than one task entry (e.g. an ablation entry sharing the baseline), run once. */
  duplicates: number;
}

export function planJobs(suiteName: string, tasks: readonly ExpandedTask[], ctx: PlanContextInput): Plan {
  const jobs: Job[] = [];
  const seen = new Set<string>();
  const belowBudget: string[] = [];
  let duplicates = 0;
  let skippedAboveLength = 0;
  // the peers' jobs: full attention is what they compute
  const peerSpec = makeSpec('full', undefined);
  for (const t of tasks) {
    const planCtx = { device: ctx.device, model: t.model, dataDir: ctx.dataDir, modelContextLength: ctx.modelContextLength?.(t.model), seed: t.seed, dryRun: ctx.dryRun };
    const plans: [MethodSpec, () => PlannedJob[], string][] = t.specs.map((spec) =>
      [spec, () => t.module.plan(structuredClone(t.options), spec, planCtx), methodLabel(spec)]);
    const planPeers = t.module.planPeers?.bind(t.module);
    if (planPeers) plans.push([peerSpec, () => planPeers(structuredClone(t.options), planCtx), 'its peers']);
    for (const [spec, planOf, what] of plans) {
      let planned;
      try {
        planned = planOf();
      } catch (err) {
        if (err instanceof HarnessError) throw err;
        throw new HarnessError(`planning ${t.task}${t.where ? ` (${t.where})` : ''} with ${what} failed: ${(err as Error).message}`);
      }
      for (const p of planned) {
        if (spec.budget !== undefined && p.contextLen < spec.budget) {
          if (t.budgetsRequested) {
            const msg = `${t.where ? `${t.where} (${t.task})` : t.task}: length ${p.contextLen} is below budget ${spec.budget}`;
            if (!belowBudget.includes(msg)) belowBudget.push(msg);
          } else skippedAboveLength++;
          continue;
        }
        const base = { suite: suiteName, task: t.task, dataset: p.dataset ?? '', model: p.model ?? t.model, method: spec,
          contextLen: p.contextLen, depth: p.depth, params: p.params ?? {}, seed: p.seed, peer: p.peer };
        const job: Job = { id: jobId(base), ...base, prefixKey: p.prefixKey ?? '' };
        if (job.depth === undefined) delete job.depth;
        if (job.peer === undefined) delete job.peer;
        if (seen.has(job.id)) {
          duplicates++;
          continue;
        }
        seen.add(job.id);
        jobs.push(job);
      }
    }
  }
  if (belowBudget.length)
    throw new UsageError(belowBudget.slice(0, 8).join('\n') + (belowBudget.length > 8 ? `\n(and ${belowBudget.length - 8} more)` : ''),
      'a budget must not exceed the context length: drop that budget or ask for longer lengths');
  return { jobs, hash: planHash(jobs), skippedAboveLength, duplicates };
}
