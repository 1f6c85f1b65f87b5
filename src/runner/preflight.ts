// The stages of a run before anything is written: plan it (device, data directory, the suite
// expanded and planned, the shard taken), then, unless it is a dry run, check that it can start:
// worker slots, a run directory that can be created (or one to continue), model files that are
// what they claim (the pinned sha256) and that the engine can load (on a GPU: whose weights fit
// it), the method knobs against each model, and the jobs against their data. Any problem here
// exits 2 and leaves nothing behind.
import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import type { Job } from '../core/job.js';
import { specProblems } from '../methods/knobs.js';
import { methodLabel } from '../methods/spec.js';
import { cachedPath, findRegistryModel, isCached, resolveModel } from '../model/catalog.js';
import { cudaKvCacheNote, defaultWeightType, formatBytes } from '../model/footprint.js';
import { engineRefusals, modelFacts, syntheticModelFacts, type ModelFacts } from '../model/model-facts.js';
import { isSyntheticModel, syntheticModel } from '../model/synthetic.js';
import { Tokenizer } from '../model/tokenizer.js';
import { loadAddon, readGgufMetadata, type BuildInfo, type GgufInfo } from '../native/addon.js';
import { fits } from '../report/memory-table.js';
import { checkReplaySource } from '../results/replay-source.js';
import { defaultRunDir } from '../results/rundir.js';
import { jobNeedsModel, needsModel } from '../tasks/task-registry.js';
import { cudaStatus, resolveDevice, workerSlots, type Device, type WorkerSlot } from './device.js';
import { expandSuite, type ExpandedTask } from './expand.js';
import { planJobs, type Plan } from './plan.js';
import type { RunRequest } from './run-request.js';
import { memoryPlan } from './memory-plan.js';
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
  /** The run directory: to create (it does not exist or is empty), or to continue (resume). */
  dir: string;
  resuming: boolean;
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
  const needsEngine = needsModel(req.registry, suiteTasks);
  const device = resolveDevice(o.device, info, { planOnly: o.dryRun, needsEngine });
  if (o.devices && device === 'cpu')
    throw new UsageError(`--devices ${o.devices.join(',')} is for runs on CUDA, and this one is on the CPU: ${cudaStatus(info, { needsEngine }).reason ?? '--device cpu'}`);
  if (o.weights && !needsEngine) throw new UsageError(`--weights ${o.weights}: no job of this run loads a model`);
  if (o.weights && device === 'cpu')
    throw new UsageError(`--weights ${o.weights} is for runs on CUDA, and this one is on the CPU: ${cudaStatus(info, { needsEngine }).reason ?? '--device cpu'}`);
  if (o.kvCache && !needsEngine) throw new UsageError(`--kv-cache ${o.kvCache}: no job of this run loads a model`);
  if (o.kvCache === 'f32' && device === 'cuda')
    throw new UsageError(`--kv-cache f32 is for runs on the CPU, and this one is on CUDA: ${cudaKvCacheNote}`,
      'leave --kv-cache out (f16 on CUDA), or use --device cpu');
  const dataDir = dataDirOf(o.dataDir);
  const tasks = expandSuite(req.suite, req.registry, device, req.source, { only: o.tasks, pathOf: req.pathOf });
  const plan = planJobs(req.suite.name, tasks, { device, dataDir, modelContextLength: contextLengthReader(o.cacheDir), dryRun: o.dryRun });
  if (plan.jobs.length === 0) throw new UsageError(`${req.source}: the plan is empty (no task produced a job)`);
  return { info, device, ...(dataDir !== undefined && { dataDir }), tasks, plan, jobs: shardJobs(plan.jobs, o.shard) };
}

/** The run directory of the request: --resume's (or --out's with a bare --resume), else --out, else
 *  results/runs/<suite>-<UTC time>. */
function runDirectoryOf(req: RunRequest): { dir: string; resuming: boolean } {
  const o = req.options;
  if (o.resume === undefined) return { dir: o.out ?? defaultRunDir(req.suite.name), resuming: false };
  if (o.resume === true && !o.out) throw new UsageError('--resume needs the run directory: --resume <dir>, or --out <dir> --resume');
  const dir = o.resume === true ? o.out! : o.resume;
  if (o.out && o.resume !== true && resolve(o.out) !== resolve(dir))
    throw new UsageError(`--out ${o.out} and --resume ${dir} name different directories`);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--resume ${dir}: no such run directory`);
  return { dir, resuming: true };
}

/** A new run directory must be empty or creatable: its nearest existing ancestor a writable directory. */
function checkCreatable(dir: string): void {
  const abs = resolve(dir);
  if (existsSync(abs)) {
    if (!statSync(abs).isDirectory()) throw new UsageError(`--out ${dir} exists and is not a directory`);
    if (readdirSync(abs).length > 0)
      throw new UsageError(`${dir} already exists and is not empty`, `choose another --out, or continue that run with --resume ${dir}`);
    try {
      accessSync(abs, constants.W_OK | constants.X_OK);
    } catch (err) {
      throw new UsageError(`--out ${dir} is not writable (${(err as NodeJS.ErrnoException).code})`);
    }
    return;
  }
  let parent = dirname(abs);
  while (!existsSync(parent)) parent = dirname(parent);
  if (!statSync(parent).isDirectory()) throw new UsageError(`--out ${dir} cannot be created: ${parent} is not a directory`);
  try {
    accessSync(parent, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw new UsageError(`--out ${dir} cannot be created: ${parent} is not writable (${(err as NodeJS.ErrnoException).code})`);
  }
}

/** A model of the run as the preflight knows it: its facts, and its GGUF metadata (none for a
 *  synthetic model: it has no file). */
interface CheckedModel {
  facts: ModelFacts;
  metadata?: GgufInfo['metadata'];
}

/**
 * Each model of the jobs that load one: resolved (fetched, or fetched again when the cached file
 * is corrupt), its header read, refused when the engine could not load it, and every method spec
 * of its jobs checked against it (layers, head_dim). A synthetic model is one of the addon's
 * presets, its facts its shape. Returns the facts and the header metadata.
 */
async function checkModels(jobs: readonly Job[], cache: string | undefined): Promise<Map<string, CheckedModel>> {
  const out = new Map<string, CheckedModel>();
  for (const model of new Set(jobs.map((j) => j.model))) {
    let facts: ModelFacts;
    let metadata: GgufInfo['metadata'] | undefined;
    if (isSyntheticModel(model)) {
      facts = syntheticModelFacts(syntheticModel(model));
    } else {
      const { path } = await resolveModel(model, { cache });
      try {
        const info = readGgufMetadata(path);
        facts = modelFacts(info);
        metadata = info.metadata;
      } catch (err) {
        throw new UsageError(`model '${model}' (${path}) cannot be read: ${(err as Error).message}`);
      }
      const refusals = engineRefusals(facts);
      if (refusals.length) throw new UsageError(`model '${model}' (${path}) cannot be loaded by the engine:\n  ${refusals.join('\n  ')}`,
        'convert it to one of the supported types (e.g. llama.cpp\'s llama-quantize to Q8_0 or Q4_0), or pick another --model');
    }
    const problems = new Set<string>();
    for (const job of jobs)
      if (job.model === model)
        for (const broken of specProblems(job.method, facts)) problems.add(`'${methodLabel(job.method)}' ${broken}`);
    if (problems.size) throw new UsageError(`the methods do not fit model '${model}' (${facts.layers ?? '?'} layers, head_dim ${facts.headDim ?? '?'}):\n  ${[...problems].join('\n  ')}`);
    out.set(model, { facts, ...(metadata && { metadata }) });
  }
  return out;
}

/** A model whose weights alone exceed the GPU could not even be loaded: refused before anything is
 *  written (a job whose KV cache does not fit fails by itself, naming the bytes). */
function checkWeightsFit(jobs: readonly Job[], req: RunRequest, info: BuildInfo | undefined): void {
  const plan = memoryPlan(jobs, req.registry, info, { cache: req.options.cacheDir, devices: req.options.devices, weights: req.options.weights });
  if (!plan.device) return;
  for (const m of plan.models)
    if (m.weights !== undefined && fits(m.weights, plan.device) !== 'fits')
      throw new UsageError(`model '${m.model}' needs ${formatBytes(m.weights)} of GPU memory for its ${req.options.weights ?? defaultWeightType} weights alone; ` +
        `${plan.device.name} has ${formatBytes(plan.device.totalBytes)}`, 'pick a smaller model, or a GPU with more memory');
}

/** The checks of a run that is to start: jobs in the shard, worker slots, the run directory, model
 *  files, knobs against the models, jobs against their data. */
export async function preflight(run: PlannedRun, req: RunRequest): Promise<RunnableRun> {
  const o = req.options;
  if (run.jobs.length === 0) throw new UsageError(`shard ${o.shard?.index}/${o.shard?.count} has no job (the plan has ${run.plan.jobs.length})`);
  const slots = workerSlots(run.device, run.info, o.devices);
  const { dir, resuming } = runDirectoryOf(req);
  if (!resuming) checkCreatable(dir);
  const modelJobs = run.jobs.filter((j) => jobNeedsModel(req.registry, j));
  const loadModel = modelJobs.length > 0;
  if (o.replaySelection !== undefined) checkReplaySource(run.jobs, o.replaySelection);
  if (loadModel) {
    const models = await checkModels(modelJobs, o.cacheDir);
    const tokenizers = new Map<string, Tokenizer>();
    const tokenizer = (model: string): Tokenizer => {
      let t = tokenizers.get(model);
      if (!t) {
        const m = models.get(model);
        if (!m) throw new Error(`no model '${model}' among the jobs' models`);
        if (!m.metadata) throw new Error(`'${model}' is a synthetic model: it has no tokenizer`);
        tokenizers.set(model, (t = new Tokenizer(m.metadata, { source: m.facts.path })));
      }
      return t;
    };
    if (run.device === 'cuda') checkWeightsFit(modelJobs, req, run.info);
    for (const task of new Set(run.jobs.map((j) => j.task))) {
      const check = req.registry[task]?.checkJobs;
      if (check) await check(run.jobs.filter((j) => j.task === task), { dataDir: run.dataDir, tokenizer });
    }
  }
  return { ...run, slots, loadModel, dir, resuming };
}
