// A worker process: reads JSON lines on stdin ('init' once, then 'job's), loads the model once
// (the engine on the worker's device: with --device cuda each worker sees one GPU, its
// CUDA_VISIBLE_DEVICES), runs each job with its task module, and answers on stdout, one JSON line
// per message. Anything a task prints goes to stderr (the run's logs/worker-<n>.log), so stdout
// carries only the protocol. A job that fails with a CUDA error ends the worker after its answer:
// the error may have left the device unusable to this process, and a fresh one takes the next job.
import { createInterface } from 'node:readline';
import { format } from 'node:util';
import { cudaStatus } from '../runner/device.js';
import { loadTaskRegistry, type TaskRegistry } from '../tasks/task-registry.js';
import type { Job, Measurement } from '../core/job.js';
import type { FromWorker, ToWorker, WorkerInit } from '../runner/worker-protocol.js';
import { loadModel, type LoadedModel } from '../model/model.js';
import { cacheDir } from '../model/catalog.js';
import { fileDigest } from '../model/digest.js';
import { failureCodeOf } from '../core/errors.js';
import { loadAddon } from '../native/addon.js';
import type { RunContext } from '../tasks/types.js';
import { endsWorker } from './failure.js';
import { InstrumentedEngine } from './decode-instruments.js';
import { collectRecords } from './records.js';
import { openReplaySource } from '../results/replay-source.js';
import { PrefixSession } from './session.js';

function send(msg: FromWorker): void {
  process.stdout.write(`${JSON.stringify(msg)}\n`);
}

for (const name of ['log', 'info', 'debug'] as const) console[name] = (...args: unknown[]) => process.stderr.write(`${format(...args)}\n`);
// the scheduler decides when a worker stops (Ctrl-C reaches the whole process group)
process.on('SIGINT', () => {});

interface State {
  registry: TaskRegistry;
  init: WorkerInit;
  model?: LoadedModel;
  session?: PrefixSession;
  /** --record-logits, --replay-selection: the engine the tasks see, with the decode instruments. */
  instruments?: InstrumentedEngine;
}

async function handleInit(init: WorkerInit): Promise<State> {
  const registry = await loadTaskRegistry();
  if (init.device === 'cuda') {
    const status = cudaStatus(loadAddon().buildInfo(), { needsEngine: init.loadModel });
    if (!status.available) throw Object.assign(new Error(status.reason ?? 'CUDA is not available'), { code: 'ERR_NO_CUDA' });
  }
  const state: State = { registry, init };
  if (init.loadModel) {
    const loaded = await loadModel(init.model, { cache: init.cacheDir, threads: init.threads, device: init.device,
      ...(init.weights && { weights: init.weights }), ...(init.kvCache && { kvCache: init.kvCache }) });
    if (init.recordLogits || init.replaySelection)
      state.instruments = new InstrumentedEngine(loaded.engine, { recordLogits: init.recordLogits, ...(init.replaySelection && { replay: openReplaySource(init.replaySelection) }) });
    const model: LoadedModel = state.instruments ? { ...loaded, engine: state.instruments } : loaded;
    state.model = model;
    state.session = new PrefixSession(model.engine, { measureRecall: init.measureRecall, recordSelection: init.recordSelection });
    // the digest of the file loaded (for a registry model, resolveModel has checked it is the pinned
    // one); a synthetic model has no file
    const sha256 = model.synthetic ? undefined : await fileDigest(model.resolved.path, cacheDir(init.cacheDir));
    if (sha256) state.instruments?.checkModel(init.model, sha256);
    send({ type: 'ready', model: { path: model.resolved.path, ...(sha256 && { sha256 }), config: { ...model.config } },
      backend: loaded.engine.backend, device: loaded.engine.deviceName });
  } else {
    send({ type: 'ready', backend: init.device, device: init.device });
  }
  return state;
}

function checkMeasurements(value: unknown): Measurement[] {
  if (!Array.isArray(value)) throw new Error('the task returned no list of measurements');
  for (const m of value as Measurement[])
    if (typeof m?.metric !== 'string' || typeof m.value !== 'number' || typeof m.n !== 'number' || typeof m.unit !== 'string')
      throw new Error(`the task returned a malformed measurement: ${JSON.stringify(m)}`);
  return value as Measurement[];
}

async function handleJob(state: State, job: Job): Promise<void> {
  const t0 = performance.now();
  const facts: Record<string, unknown> = {};
  try {
    const module = state.registry[job.task];
    if (!module) throw new Error(`the '${job.task}' task is not implemented in this build`);
    const ctx: RunContext = {
      get model(): LoadedModel {
        if (!state.model) throw new Error(`task '${job.task}' declared needsModel: false but used the model`);
        return state.model;
      },
      dataDir: state.init.dataDir,
      device: state.init.device,
      preparePrefix: (key, tokens, method, opts) => {
        if (!state.session) throw new Error(`task '${job.task}' declared needsModel: false but asked for a prefix`);
        return state.session.prepare(key, tokens, method, opts);
      },
      log: (message) => send({ type: 'log', message }),
      recordFacts: (f) => Object.assign(facts, f),
    };
    state.instruments?.beginJob(job);
    const measurements = checkMeasurements(await module.run(job, ctx));
    const extra = state.instruments?.finishJob();
    if (extra?.replay?.notRecorded) send({ type: 'log', message: `${job.id}: ${extra.replay.notRecorded} decode steps past the recorded job's end selected on their own` });
    if (state.model && job.peer === undefined && (state.init.measureRecall || state.init.recordSelection || extra))
      measurements.push(...collectRecords(state.model.engine, state.model.config, job, state.init.runDir, extra));
    send({ type: 'result', result: { jobId: job.id, measurements, seconds: (performance.now() - t0) / 1000,
      ...(Object.keys(facts).length > 0 && { facts }) } });
  } catch (err) {
    state.session?.invalidate();
    const code = failureCodeOf(err);
    const restart = endsWorker(state.init.device, code);
    send({
      type: 'failed',
      jobId: job.id,
      error: err instanceof Error ? err.message : String(err),
      ...(code !== undefined && { code }),
      seconds: (performance.now() - t0) / 1000,
      ...(restart && { restart: true }),
    });
    if (restart) process.exit(0);
  }
}

async function main(): Promise<void> {
  let state: State | undefined;
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (line.trim() === '') continue;
    const msg = JSON.parse(line) as ToWorker;
    if (msg.type === 'init') {
      try {
        state = await handleInit(msg);
      } catch (err) {
        const code = failureCodeOf(err);
        send({ type: 'failed', jobId: '', error: (err as Error)?.message ?? String(err), ...(code !== undefined && { code }), seconds: 0 });
        process.exit(3);
      }
    } else if (msg.type === 'job') {
      if (!state) {
        send({ type: 'failed', jobId: msg.job.id, error: 'job before init', seconds: 0 });
        continue;
      }
      await handleJob(state, msg.job);
    } else if (msg.type === 'shutdown') {
      break;
    }
  }
  // stdin closed or shutdown: the scheduler is done with us
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`worker: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
