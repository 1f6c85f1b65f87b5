// The scheduler with real worker processes (dist/worker/main.js) running the fake task registry:
// results come back, prefix groups stay on one worker, a worker that dies fails only its job and
// a new worker goes on, a worker that cannot start stops the run with its reason.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Suite } from '../src/config/suite.js';
import { expandSuite } from '../src/runner/expand.js';
import type { WorkerSlot } from '../src/runner/device.js';
import { planJobs } from '../src/runner/plan.js';
import type { TaskRegistry } from '../src/tasks/task-registry.js';
import { runScheduler, type JobOutcome } from '../src/runner/scheduler.js';
import type { Job } from '../src/core/job.js';
import { ensureBuilt, fakeRegistry, workerMain } from './helpers/build.js';

let registry: TaskRegistry;

beforeAll(async () => {
  await ensureBuilt();
  registry = (await import(pathToFileURL(fakeRegistry).href) as { taskModules: TaskRegistry }).taskModules;
});

function plan(suite: Suite): Job[] {
  return planJobs(suite.name, expandSuite(suite, registry, 'cpu', 'test'), { device: 'cpu' }).jobs;
}

const cpu = (slot: number): WorkerSlot => ({ slot, device: 'cpu', name: `cpu${slot}`, hardware: 'test', env: {} });

async function schedule(jobs: Job[], env: Record<string, string> = {}, slots: WorkerSlot[] = [cpu(0)], loadModel = false) {
  const logDir = mkdtempSync(join(tmpdir(), 'sched-'));
  const outcomes: JobOutcome[] = [];
  const logs: string[] = [];
  const result = await runScheduler({
    jobs,
    slots,
    init: { loadModel },
    logDir,
    command: { file: process.execPath, args: [workerMain], env: { ADAMAS_BENCH_TASK_REGISTRY: fakeRegistry, ...env } },
    events: { onOutcome: (o) => outcomes.push(o), onLog: (m) => logs.push(m) },
  });
  return { result, outcomes, logs, logDir };
}

const suite: Suite = { name: 's', methods: ['full', 'adamas'], budgets: [64], tasks: [{ task: 'passkey', lengths: [256, 512], depths: [0, 50], trials: 1 }] };

describe('scheduler with real workers', () => {
  it('runs every job once and returns its measurements', async () => {
    const jobs = plan(suite);
    const { result, outcomes, logs } = await schedule(jobs, { FAKE_TASK_LOG: '1' });
    expect(result).toMatchObject({ interrupted: false, workersStarted: 1 });
    expect(result.fatal).toBeUndefined();
    expect(outcomes.map((o) => o.job.id).sort()).toEqual(jobs.map((j) => j.id).sort());
    expect(outcomes.every((o) => o.status === 'ok')).toBe(true);
    const first = outcomes[0];
    if (first.status !== 'ok') throw new Error('not ok');
    expect(first.result.measurements.map((m) => m.metric)).toEqual(['accuracy', 'decode_ms']);
    expect(logs.filter((l) => l.startsWith('ran '))).toHaveLength(jobs.length);
  });

  it('keeps a prefix group on one worker, back to back', async () => {
    const jobs = plan({ ...suite, tasks: [{ task: 'passkey', lengths: [256, 512, 1024], depths: [0, 50], trials: 1 }] });
    const { outcomes, result } = await schedule(jobs, {}, [cpu(0), cpu(1)]);
    expect(result.workersStarted).toBe(2);
    const pidOf = (o: JobOutcome) => (o.status === 'ok' ? /pid=(\d+)/.exec(o.result.measurements[0].detail ?? '')![1] : '');
    const byGroup = new Map<string, Set<string>>();
    for (const o of outcomes) {
      const set = byGroup.get(o.job.prefixKey) ?? new Set();
      set.add(pidOf(o));
      byGroup.set(o.job.prefixKey, set);
    }
    expect(byGroup.size).toBe(6);
    for (const pids of byGroup.values()) expect(pids.size).toBe(1);
    expect(new Set(outcomes.map(pidOf)).size).toBe(2); // both workers got work
    // per worker, the jobs of a group come one after another
    for (const pid of new Set(outcomes.map(pidOf))) {
      const keys = outcomes.filter((o) => pidOf(o) === pid).map((o) => o.job.prefixKey);
      const runs = keys.filter((k, i) => i === 0 || keys[i - 1] !== k);
      expect(new Set(runs).size).toBe(runs.length);
    }
  });

  for (const mode of ['kill', 'exit'] as const) {
    it(`a worker that dies (${mode}) fails only its job; a new worker finishes the rest`, async () => {
      const jobs = plan(suite);
      const { outcomes, result, logDir } = await schedule(jobs, { FAKE_TASK_CRASH: `${mode}:512:0:adamas` });
      expect(result.fatal).toBeUndefined();
      expect(outcomes).toHaveLength(jobs.length);
      const failed = outcomes.filter((o) => o.status === 'failed');
      expect(failed).toHaveLength(1);
      const f = failed[0];
      if (f.status !== 'failed') throw new Error('not failed');
      expect(f.job).toMatchObject({ contextLen: 512, depth: 0 });
      expect(f.job.method.method).toBe('adamas');
      expect(f.crashed).toBe(true);
      expect(f.error).toContain(mode === 'kill' ? 'killed by SIGKILL' : 'exited with code 7');
      expect(f.error).toContain(`fake task: about to ${mode} on ${f.job.id}`);
      expect(result.workersStarted).toBe(2);
      expect(readdirSync(logDir).sort()).toEqual(['worker-1.log', 'worker-2.log']);
      expect(readFileSync(join(logDir, 'worker-1.log'), 'utf8')).toContain(`about to ${mode}`);
    });
  }

  it('a job that throws fails with its code; the worker lives on', async () => {
    const jobs = plan(suite);
    const { outcomes, result } = await schedule(jobs, { FAKE_TASK_CRASH: 'throw:256:50' });
    expect(result.workersStarted).toBe(1);
    const failed = outcomes.filter((o) => o.status === 'failed');
    expect(failed).toHaveLength(2); // full and adamas at (256, 50)
    for (const f of failed) expect(f).toMatchObject({ error: 'fake failure', code: 'ERR_FAKE', crashed: false });
  });

  it('a worker asked for CUDA where none can run says why (the run stops)', async () => {
    const jobs = plan(suite);
    const gpu: WorkerSlot = { slot: 0, device: 'cuda', name: 'cuda:0', hardware: 'test', env: { CUDA_VISIBLE_DEVICES: '' } };
    const { outcomes, result } = await schedule(jobs, {}, [gpu]);
    expect(outcomes).toHaveLength(0);
    expect(result.fatal?.message).toContain('use --device cpu');
    expect(result.fatal?.code).toBe('ERR_NO_CUDA');
  });

  it('a worker that cannot load its model stops the run with the reason', async () => {
    const jobs = plan(suite).map((j) => ({ ...j, model: '/nonexistent/model.gguf' }));
    const { outcomes, result } = await schedule(jobs, {}, [cpu(0)], true);
    expect(outcomes).toHaveLength(0);
    expect(result.fatal?.message).toContain("model '/nonexistent/model.gguf' is neither a known model nor an existing file");
  });

  it('an abort kills the workers and reports nothing unfinished', async () => {
    const jobs = plan(suite);
    const controller = new AbortController();
    const outcomes: JobOutcome[] = [];
    const t0 = Date.now();
    const result = await runScheduler({
      jobs,
      slots: [cpu(0)],
      init: { loadModel: false },
      logDir: mkdtempSync(join(tmpdir(), 'sched-')),
      command: { file: process.execPath, args: [workerMain], env: { ADAMAS_BENCH_TASK_REGISTRY: fakeRegistry, FAKE_TASK_SLEEP_MS: '400' } },
      signal: controller.signal,
      events: {
        onOutcome: (o) => {
          outcomes.push(o);
          if (outcomes.length === 2) controller.abort();
        },
      },
    });
    expect(result.interrupted).toBe(true);
    expect(outcomes).toHaveLength(2);
    expect(Date.now() - t0).toBeLessThan(jobs.length * 400);
  });
});

// A stand-in for the worker (the protocol only): it says whether it was started to load its model,
// and ends itself after a job it fails with a CUDA error, as worker/main.ts does on a GPU.
const fakeWorker = `
const rl = require('node:readline').createInterface({ input: process.stdin });
let load = null;
const send = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
rl.on('line', (line) => {
  const msg = JSON.parse(line);
  if (msg.type === 'init') { load = msg.loadModel; send({ type: 'ready', backend: 'cuda', device: 'fake' }); }
  else if (msg.type === 'job') {
    if (msg.job.params.fail === 'cuda') {
      send({ type: 'failed', jobId: msg.job.id, error: 'decode.cu:120: cudaLaunchKernel failed: cudaErrorIllegalAddress', code: 'ERR_NATIVE', seconds: 0, restart: true });
      process.exit(0);
    }
    send({ type: 'result', result: { jobId: msg.job.id, seconds: 0, measurements: [{ metric: 'm', value: 1, unit: '', n: 1, detail: 'pid=' + process.pid + ';load=' + load }] } });
  } else if (msg.type === 'shutdown') process.exit(0);
});
`;

describe('scheduler and the GPU workers', () => {
  const script = join(mkdtempSync(join(tmpdir(), 'fake-worker-')), 'worker.cjs');
  const job = (i: number, extra: Partial<Job> = {}): Job => ({
    id: `j${i}`, suite: 's', task: 'kernels', dataset: '', model: 'synthetic:llama2-7b', method: plan(suite)[0].method, contextLen: 1024,
    params: {}, prefixKey: '', seed: 1, ...extra,
  });
  const detailOf = (o: JobOutcome) => (o.status === 'ok' ? o.result.measurements[0].detail ?? '' : '');

  async function run(jobs: Job[], loadsModel?: (job: Job) => boolean) {
    writeFileSync(script, fakeWorker);
    const outcomes: JobOutcome[] = [];
    const logs: string[] = [];
    const result = await runScheduler({
      jobs, slots: [{ slot: 0, device: 'cuda', name: 'cuda:0', hardware: 'fake', env: {} }], init: { loadModel: true },
      logDir: mkdtempSync(join(tmpdir(), 'sched-')), command: { file: process.execPath, args: [script] },
      events: { onOutcome: (o) => outcomes.push(o), onLog: (m) => logs.push(m) }, ...(loadsModel && { loadsModel }),
    });
    return { result, outcomes, logs };
  }

  it('a worker that ends itself after a CUDA error is replaced; its job alone failed', async () => {
    const { result, outcomes, logs } = await run([job(1), job(2, { params: { fail: 'cuda' } }), job(3)]);
    expect(outcomes.map((o) => [o.job.id, o.status])).toEqual([['j1', 'ok'], ['j2', 'failed'], ['j3', 'ok']]);
    const failed = outcomes[1];
    expect(failed).toMatchObject({ status: 'failed', code: 'ERR_NATIVE', crashed: false });
    expect(result.workersStarted).toBe(2);
    expect(detailOf(outcomes[0])).not.toBe(detailOf(outcomes[2]));
    expect(logs.some((l) => /worker 1 \(cuda:0\) ends after the error of j2; starting a new one/.test(l))).toBe(true);
  });

  it('the peers\' jobs get a worker that loads no model, kept apart from ours', async () => {
    const jobs = [job(1), job(2, { peer: 'torch' }), job(3), job(4, { peer: 'torch' })];
    const { result, outcomes } = await run(jobs, (j) => j.peer === undefined);
    expect(outcomes.every((o) => o.status === 'ok')).toBe(true);
    const load = Object.fromEntries(outcomes.map((o) => [o.job.id, /load=(\w+)/.exec(detailOf(o))![1]]));
    expect(load).toEqual({ j1: 'true', j2: 'false', j3: 'true', j4: 'false' });
    // ours together, then the peers: one worker each
    expect(result.workersStarted).toBe(2);
    expect(outcomes.map((o) => o.job.id)).toEqual(['j1', 'j3', 'j2', 'j4']);
  });
});
