// The dry run's memory plan on CUDA: for each model the jobs load, its weights on the GPU and the
// KV cache of the longest job at each context length (from the task's estimate of its work: the
// tokens it prefills and decodes), read from the GGUF header or the synthetic preset without
// loading anything.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Job } from '../core/job.js';
import { cachedPath, findRegistryModel, isCached } from '../model/catalog.js';
import { deviceBytes, type WeightType } from '../model/footprint.js';
import { modelFacts, syntheticModelFacts, type ModelFacts } from '../model/model-facts.js';
import { isSyntheticModel, syntheticModel } from '../model/synthetic.js';
import { readGgufMetadata, type BuildInfo } from '../native/addon.js';
import type { MemoryPlan, ModelMemory } from '../report/memory-table.js';
import { jobNeedsModel, type TaskRegistry } from '../tasks/task-registry.js';

/** The facts of a model without loading or fetching it, or why they cannot be had. */
function factsOf(model: string, cache: string | undefined): ModelFacts | string {
  try {
    if (isSyntheticModel(model)) return syntheticModelFacts(syntheticModel(model));
    const entry = findRegistryModel(model);
    if (entry && !isCached(entry, cache)) return `not cached yet ('adamas-bench models fetch' sizes it)`;
    const path = entry ? cachedPath(entry, cache) : resolve(model);
    if (!existsSync(path)) return `no such file: ${path}`;
    return modelFacts(readGgufMetadata(path));
  } catch (err) {
    return (err as Error).message;
  }
}

/** Positions a job holds at most: its prefill and decode steps, else its context length. */
export function jobTokens(job: Job, registry: TaskRegistry): number {
  const w = registry[job.task]?.estimateWork?.(job, 'cuda');
  if (!w) return job.contextLen;
  const first = w.decodeFrom ?? w.prefillTokens ?? job.contextLen;
  return Math.max(job.contextLen, first + (w.decodeSteps ?? 0));
}

export function memoryPlan(jobs: readonly Job[], registry: TaskRegistry, info: BuildInfo | undefined, opts: { cache?: string; devices?: number[]; weights?: WeightType } = {}): MemoryPlan {
  const loading = jobs.filter((j) => jobNeedsModel(registry, j));
  const lengths = [...new Set(loading.map((j) => j.contextLen))].sort((a, b) => a - b);
  const models: ModelMemory[] = [];
  for (const model of new Set(loading.map((j) => j.model))) {
    const facts = factsOf(model, opts.cache);
    const kv = new Map<number, number>();
    if (typeof facts === 'string' || !facts.parameters || !facts.layers || !facts.kvHeads || !facts.headDim) {
      models.push({ model, unknown: typeof facts === 'string' ? facts : 'its header does not give the shape', kv });
      continue;
    }
    const shape = { layers: facts.layers, kvHeads: facts.kvHeads, headDim: facts.headDim };
    for (const j of loading.filter((x) => x.model === model)) {
      const bytes = deviceBytes(facts.parameters, shape, jobTokens(j, registry), opts.weights).kv;
      kv.set(j.contextLen, Math.max(kv.get(j.contextLen) ?? 0, bytes));
    }
    models.push({ model, weights: deviceBytes(facts.parameters, shape, 0, opts.weights).weights, kv });
  }
  const visible = (info?.cuda.devices ?? []).filter((d) => !opts.devices || opts.devices.includes(d.index));
  const smallest = visible.sort((a, b) => a.totalMemory - b.totalMemory)[0];
  return { lengths, models, ...(smallest && { device: { name: smallest.name, totalBytes: smallest.totalMemory } }) };
}
