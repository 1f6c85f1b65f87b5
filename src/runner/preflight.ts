// The stages of a run before anything is written: plan it (device, data directory, the suite
// expanded and planned, the shard taken), then, unless it is a dry run, check that it can start
// (worker slots, readable model files). Any problem here leaves nothing behind.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import type { Job } from '../core/job.js';
import { cachedPath, findRegistryModel, isCached, resolveModel } from '../model/catalog.js';
import { loadAddon, readGgufMetadata, type BuildInfo } from '../native/addon.js';
import { needsModel } from '../tasks/task-registry.js';
import { resolveDevice, workerSlots, type Device, type WorkerSlot } from './device.js';
import { expandSuite, type ExpandedTask } from './expand.js';
import { planJobs, type Plan } from './plan.js';
import type { RunRequest } from './run-request.js';
import { shardJobs } from './shard.js';

export interface PlannedRun {
  /** The addon's build, when it loads. */
  info: BuildInfo | undefined;
  device: Device;
  /** --data-dir (or ADAMAS_BENCH_DATA), resolved; undefined when neither is given. */
  dataDir?: string;
  tasks: ExpandedTask[];
  plan: Plan;
  /** The jobs of this run (the plan after --shard). */
  jobs: Job[];
}

export interface RunnableRun extends PlannedRun {
  slots: WorkerSlot[];
  /** Whether the workers load a model (some task of the jobs needs one). */
  loadModel: boolean;
}

function buildInfoOrUndefined(): BuildInfo | undefined {
  try {
    return loadAddon().buildInfo();
  } catch {
    return undefined;
  }
}

function dataDirOf(flag: string | undefined): string | undefined {
  const [dir, from] = flag !== undefined ? [flag, '--data-dir'] : [process.env.ADAMAS_BENCH_DATA, 'ADAMAS_BENCH_DATA'];
  if (dir === undefined || dir === '') return undefined;
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UsageError(`data directory '${dir}' (${from}) does not exist or is not a directory`,
      'point --data-dir (or ADAMAS_BENCH_DATA) at the directory that holds the data sets');
  return resolve(dir);
}

/** The trained context length from the GGUF header, when the file is at hand (never fetches or loads). */
function contextLengthReader(cacheDir: string | undefined): (model: string) => number | undefined {
  const cache = new Map<string, number | undefined>();
  return (model) => {
    if (cache.has(model)) return cache.get(model);
    let value: number | undefined;
    try {
      const entry = findRegistryModel(model);
      const path = entry ? (isCached(entry, cacheDir) ? cachedPath(entry, cacheDir) : undefined) : resolve(model);
      if (path && existsSync(path)) {
        const md = readGgufMetadata(path).metadata;
        const v = md[`${String(md['general.architecture'])}.context_length`];
        if (typeof v === 'number') value = v;
      }
    } catch {
      value = undefined;
    }
    cache.set(model, value);
    return value;
  };
}

/** Device, data directory, expanded suite, plan and shard. */
export function planRun(req: RunRequest): PlannedRun {
  const o = req.options;
  const info = buildInfoOrUndefined();
  const suiteTasks = req.suite.tasks.map((t) => t.task).filter((t) => !o.tasks || o.tasks.includes(t));
  const device = resolveDevice(o.device, info, { planOnly: o.dryRun, needsEngine: needsModel(req.registry, suiteTasks) });
  const dataDir = dataDirOf(o.dataDir);
  const tasks = expandSuite(req.suite, req.registry, device, req.source, { only: o.tasks, pathOf: req.pathOf });
  const plan = planJobs(req.suite.name, tasks, { device, dataDir, modelContextLength: contextLengthReader(o.cacheDir), dryRun: o.dryRun });
  if (plan.jobs.length === 0) throw new UsageError(`${req.source}: the plan is empty (no task produced a job)`);
  return { info, device, ...(dataDir !== undefined && { dataDir }), tasks, plan, jobs: shardJobs(plan.jobs, o.shard) };
}

/** The checks of a run that is to start: jobs in the shard, worker slots, model files that read. */
export async function preflight(run: PlannedRun, req: RunRequest): Promise<RunnableRun> {
  const o = req.options;
  if (run.jobs.length === 0) throw new UsageError(`shard ${o.shard?.index}/${o.shard?.count} has no job (the plan has ${run.plan.jobs.length})`);
  const slots = workerSlots(run.device, run.info, o.devices);
  const loadModel = needsModel(req.registry, new Set(run.jobs.map((j) => j.task)));
  if (loadModel) {
    // a missing or broken model file is bad input: say so before anything is written
    for (const model of new Set(run.jobs.map((j) => j.model))) {
      const { path } = await resolveModel(model, { cache: o.cacheDir });
      try {
        readGgufMetadata(path);
      } catch (err) {
        throw new UsageError(`model '${model}' (${path}) cannot be read: ${(err as Error).message}`);
      }
    }
  }
  return { ...run, slots, loadModel };
}
