// A run, start to end: validate and plan (nothing is written before the plan stands), then either
// print the plan (--dry-run) or create/continue the run directory, feed the jobs to the workers,
// append each finished job to results.csv and the journal, and summarise.
import { appendFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { HarnessError, UsageError } from '../core/errors.js';
import type { Suite } from '../config/suite.js';
import { loadAddon, readGgufMetadata, type BuildInfo } from '../native/addon.js';
import { cachedPath, findRegistryModel, isCached, resolveModel } from '../model/registry.js';
import { readJournal, okJobIds } from '../results/journal.js';
import { gitInfo, packageInfo, readMeta, shellLine, writeMeta, type RunMeta } from '../results/meta.js';
import { readJobs, readRun, type RunData } from '../results/read.js';
import { defaultRunDir, runPath } from '../results/rundir.js';
import { RunWriter } from '../results/write.js';
import { resolveDevice, workerSlots, type DeviceRequest } from './device.js';
import { estimatePlan, formatPlan } from './dry-run.js';
import { expandSuite } from './expand.js';
import { planJobs, type Plan } from './plan.js';
import { createProgress, type ProgressStream } from './progress.js';
import { needsModel, type TaskRegistry } from '../tasks/task-registry.js';
import { runScheduler } from './scheduler.js';
import { shardJobs } from './shard.js';
import { formatSummary, summarize } from './summary.js';
import { jobLabel, type Job, type Shard, type TaskName } from '../core/job.js';
import type { WorkerCommand } from './worker-process.js';

export interface RunOptions {
  /** The device asked for (flag, else the suite's, else 'auto'). */
  device: DeviceRequest;
  /** GPU indices for --device cuda (default: all). */
  devices?: number[];
  out?: string;
  /** A run directory to continue, or true for --out's. */
  resume?: string | true;
  shard?: Shard;
  dryRun?: boolean;
  /** --data-dir; ADAMAS_BENCH_DATA when absent. */
  dataDir?: string;
  cacheDir?: string;
  threads?: number;
  /** Only these tasks of the suite. */
  tasks?: TaskName[];
  /** Instrumentation of the sparse decode steps (see WorkerInit). */
  measureRecall?: boolean;
  recordSelection?: boolean;
}

/** How a suite entry is named in messages: '/tasks/<i>' for files, '' for a task command's flags. */
export type PathOf = (index: number) => string;

export interface RunRequest {
  suite: Suite;
  /** Where the suite came from, for messages: a file path or 'the command line'. */
  source: string;
  registry: TaskRegistry;
  options: RunOptions;
  /** The command line (without node and the script), recorded in meta.json. */
  argv: string[];
  workerCommand?: WorkerCommand;
  stdout?: NodeJS.WritableStream;
  stderr?: ProgressStream;
  /** Print the generic summary tables at the end (default true). */
  summary?: boolean;
  pathOf?: PathOf;
}

export interface RunOutcome {
  exitCode: number;
  plan: Plan;
  /** The jobs of this run (after --shard). */
  jobs: Job[];
  dir?: string;
  data?: RunData;
  interrupted?: boolean;
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

function log(stderr: NodeJS.WritableStream, message: string): void {
  stderr.write(`${message}\n`);
}

export async function executeRun(req: RunRequest): Promise<RunOutcome> {
  const stdout = req.stdout ?? process.stdout;
  const stderr = req.stderr ?? process.stderr;
  const o = req.options;
  const info = buildInfoOrUndefined();
  const suiteTasks = req.suite.tasks.map((t) => t.task).filter((t) => !o.tasks || o.tasks.includes(t));
  const device = resolveDevice(o.device, info, { planOnly: o.dryRun, needsEngine: needsModel(req.registry, suiteTasks) });
  const dataDir = dataDirOf(o.dataDir);

  // ---- validate and plan: any problem here leaves nothing behind
  const tasks = expandSuite(req.suite, req.registry, device, req.source, { only: o.tasks, pathOf: req.pathOf });
  const plan = planJobs(req.suite.name, tasks, { device, dataDir, modelContextLength: contextLengthReader(o.cacheDir), dryRun: o.dryRun });
  if (plan.jobs.length === 0) throw new UsageError(`${req.source}: the plan is empty (no task produced a job)`);
  const jobs = shardJobs(plan.jobs, o.shard);

  if (o.dryRun) {
    stdout.write(`${formatPlan({ suite: req.suite.name, device, totalJobs: plan.jobs.length, shard: o.shard, jobs,
      skippedAboveLength: plan.skippedAboveLength, duplicates: plan.duplicates, estimateSeconds: estimatePlan(jobs, req.registry, device) })}\n`);
    return { exitCode: 0, plan, jobs };
  }
  if (jobs.length === 0) throw new UsageError(`shard ${o.shard?.index}/${o.shard?.count} has no job (the plan has ${plan.jobs.length})`);

  const slots = workerSlots(device, info, o.devices);
  const loadModel = needsModel(req.registry, new Set(jobs.map((j) => j.task)));
  if (loadModel) {
    // a missing or broken model file is bad input: say so before anything is written
    for (const model of new Set(jobs.map((j) => j.model))) {
      const { path } = await resolveModel(model, { cache: o.cacheDir });
      try {
        readGgufMetadata(path);
      } catch (err) {
        throw new UsageError(`model '${model}' (${path}) cannot be read: ${(err as Error).message}`);
      }
    }
  }

  // ---- the run directory: new, or continued
  const commandLine = shellLine(req.argv);
  let dir: string;
  let meta: RunMeta;
  let writer: RunWriter;
  let pending: Job[];
  let doneBefore = 0;
  if (o.resume !== undefined) {
    if (o.resume === true && !o.out) throw new UsageError('--resume needs the run directory: --resume <dir>, or --out <dir> --resume');
    dir = o.resume === true ? o.out! : o.resume;
    if (o.out && o.resume !== true && resolve(o.out) !== resolve(o.resume))
      throw new UsageError(`--out ${o.out} and --resume ${o.resume} name different directories`);
    meta = readMeta(dir);
    if (meta.plan.hash !== plan.hash)
      throw new UsageError(`the plan differs from the one of ${dir} (the suite or the flags changed)`,
        `resume with the same command (${meta.commandLine}), or simply: adamas-bench run --resume ${dir}`);
    const before = meta.shard ? `${meta.shard.index}/${meta.shard.count}` : 'none';
    const now = o.shard && o.shard.count > 1 ? `${o.shard.index}/${o.shard.count}` : 'none';
    if (before !== now) throw new UsageError(`${dir} was run with --shard ${before}, not ${now}`);
    writer = RunWriter.open(dir, meta.runId);
    // a merged run with a shard missing lacks those jobs in jobs.jsonl: add them
    const listed = new Set(readJobs(dir).map((j) => j.id));
    const unlisted = jobs.filter((j) => !listed.has(j.id));
    if (unlisted.length) appendFileSync(runPath(dir, 'jobs'), unlisted.map((j) => `${JSON.stringify(j)}\n`).join(''));
    const ok = okJobIds(readJournal(runPath(dir, 'journal')));
    pending = jobs.filter((j) => !ok.has(j.id));
    doneBefore = jobs.length - pending.length;
    meta.resumes.push({ at: new Date().toISOString(), commandLine });
    meta.status = 'running';
    meta.endedAt = null;
    log(stderr, `resuming ${dir}: ${doneBefore} of ${jobs.length} jobs already done, ${pending.length} to run`);
  } else {
    dir = o.out ?? defaultRunDir(req.suite.name);
    if (existsSync(dir) && (!statSync(dir).isDirectory() || readdirSync(dir).length > 0))
      throw new UsageError(`${dir} already exists and is not empty`, `choose another --out, or continue that run with --resume ${dir}`);
    const runId = basename(resolve(dir));
    writer = RunWriter.create(dir, runId, jobs);
    pending = jobs;
    meta = {
      schemaVersion: 1,
      runId,
      suite: req.suite.name,
      status: 'running',
      commandLine,
      argv: req.argv,
      git: await gitInfo(),
      node: process.version,
      package: packageInfo(),
      native: info ?? { error: 'the native addon could not be loaded' },
      backend: device,
      device: {
        kind: device,
        names: slots.map((s) => s.name),
        hardware: slots.map((s) => s.hardware),
        driverVersion: device === 'cuda' ? info?.cuda.driverVersion ?? null : null,
      },
      models: {},
      seed: req.suite.seed ?? tasks[0].seed,
      shard: o.shard && o.shard.count > 1 ? o.shard : null,
      plan: { hash: plan.hash, totalJobs: plan.jobs.length, jobsInRun: jobs.length, skippedAboveLength: plan.skippedAboveLength },
      options: {
        device: o.device,
        ...(o.devices && { devices: o.devices }),
        ...(o.tasks && { tasks: o.tasks }),
        ...(dataDir && { dataDir }),
        ...(o.threads && { threads: o.threads }),
      },
      suiteDefinition: req.suite,
      startedAt: new Date().toISOString(),
      endedAt: null,
      resumes: [],
      counts: { ok: 0, failed: 0, pending: jobs.length },
    };
  }
  writeMeta(dir, meta);
  log(stderr, `run ${dir}: ${pending.length} jobs on ${slots.map((s) => s.name).join(', ')}`);

  // ---- run
  const progress = createProgress(stderr);
  const controller = new AbortController();
  let ok = doneBefore;
  let failed = 0;
  const finish = (status: RunMeta['status']) => {
    meta.status = status;
    meta.endedAt = new Date().toISOString();
    meta.counts = { ok, failed, pending: jobs.length - ok - failed };
    writeMeta(dir, meta);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) return;
    controller.abort();
    progress.stop();
    finish('interrupted');
    log(stderr, `\n${signal}: stopped; ${ok} jobs done are kept in ${dir}\nresume with: adamas-bench run --resume ${dir}`);
  };
  process.prependListener('SIGINT', onSignal);
  process.prependListener('SIGTERM', onSignal);
  let result;
  try {
    progress.start(jobs.length, doneBefore);
    result = await runScheduler({
      jobs: pending,
      slots,
      init: {
        loadModel,
        ...(o.cacheDir && { cacheDir: o.cacheDir }),
        ...(o.threads && { threads: o.threads }),
        ...(dataDir && { dataDir }),
        ...((o.measureRecall || o.recordSelection) && { measureRecall: o.measureRecall, recordSelection: o.recordSelection, runDir: resolve(dir) }),
      },
      logDir: runPath(dir, 'logs'),
      firstWorkerNumber: existsSync(runPath(dir, 'logs')) ? readdirSync(runPath(dir, 'logs')).length + 1 : 1,
      command: req.workerCommand,
      signal: controller.signal,
      events: {
        onReady(ready, _slot, model) {
          if (ready.model && !meta.models[model]) {
            meta.models[model] = ready.model;
            writeMeta(dir, meta);
          }
        },
        onStart(job) {
          progress.jobStarted(jobLabel(job));
        },
        onOutcome(out) {
          const entry = writer.appendJob(out.status === 'ok'
            ? { job: out.job, device: out.slot.name, status: 'ok', measurements: out.result.measurements, seconds: out.result.seconds }
            : { job: out.job, device: out.slot.name, status: 'failed', error: out.error, seconds: out.seconds, ...(out.code !== undefined && { code: out.code }) });
          if (entry.status === 'ok') ok++;
          else failed++;
          progress.jobFinished(entry.label, entry.status === 'ok', entry.seconds, entry.error);
        },
        onLog(message, slot) {
          progress.log(`[${slot.name}] ${message}`);
        },
      },
    });
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    progress.stop();
    writer.close();
  }

  if (result.interrupted) return { exitCode: 130, plan, jobs, dir, interrupted: true };
  if (result.fatal) {
    finish('failed');
    const usage = result.fatal.code !== undefined && ['ERR_NO_CUDA', 'ERR_GGUF', 'ERR_UNSUPPORTED_MODEL', 'ERR_INVALID_OPTION'].includes(result.fatal.code);
    throw new HarnessError(`a worker could not start: ${result.fatal.message}`, usage ? 2 : 1,
      `${dir} keeps what finished (${ok} jobs); after fixing the cause: adamas-bench run --resume ${dir}`);
  }
  finish(failed ? 'completed-with-failures' : 'completed');

  // ---- summary: tables on stdout, the rest on stderr
  const data = readRun(dir);
  if (req.summary !== false && data.rows.length) stdout.write(`${formatSummary(summarize(data.rows))}\n`);
  const failures = [...data.latest.values()].filter((e) => e.status === 'failed');
  log(stderr, `\n${ok} of ${jobs.length} jobs ok${failures.length ? `, ${failures.length} failed` : ''}; results: ${runPath(dir, 'results')}`);
  if (failures.length) {
    log(stderr, 'failed jobs:');
    for (const f of failures.slice(0, 20)) log(stderr, `  ${f.label} [${f.jobId}]: ${f.error?.split('\n', 1)[0] ?? 'failed'}`);
    if (failures.length > 20) log(stderr, `  ... and ${failures.length - 20} more (see journal.jsonl)`);
    log(stderr, `retry them with: adamas-bench run --resume ${dir}`);
  }
  return { exitCode: failures.length ? 1 : 0, plan, jobs, dir, data };
}
