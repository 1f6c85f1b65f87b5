// In-process runs (executeRun) with real workers and the fake task registry, for the runner tests.
import { pathToFileURL } from 'node:url';
import { PassThrough } from 'node:stream';
import type { Suite } from '../../src/config/suite.js';
import { readRun } from '../../src/results/read.js';
import type { TaskRegistry } from '../../src/tasks/task-registry.js';
import { executeRun, type RunOptions } from '../../src/runner/execute-run.js';
import { fakeRegistry, workerMain } from './build.js';

export async function fakeTasks(): Promise<TaskRegistry> {
  return (await import(pathToFileURL(fakeRegistry).href) as { taskModules: TaskRegistry }).taskModules;
}

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  return { stream, text: () => text };
}

export async function runFake(suite: Suite, options: Partial<RunOptions>, env: Record<string, string> = {}) {
  const out = collect();
  const err = collect();
  const outcome = await executeRun({
    suite,
    source: 'test',
    registry: await fakeTasks(),
    options: { device: 'cpu', ...options },
    argv: ['test'],
    workerCommand: { file: process.execPath, args: [workerMain], env: { ADAMAS_BENCH_TASK_REGISTRY: fakeRegistry, ...env } },
    stdout: out.stream,
    stderr: err.stream,
  });
  return { outcome, stdout: out.text(), stderr: err.text() };
}

export const fakeSuite: Suite = {
  name: 'fake',
  methods: ['full', 'adamas'],
  budgets: [64],
  tasks: [
    { task: 'passkey', lengths: [256, 512], depths: [0, 50], trials: 2 },
    { task: 'ppl', lengths: [128, 256] },
  ],
};

/** Rows without run id, device and worker pid, sorted: what two runs of one plan must agree on. */
export function comparable(dir: string): string[] {
  return readRun(dir).rows.map((r) => JSON.stringify({ ...r, run_id: '', device: '', detail: r.detail.replace(/pid=\d+/, '') })).sort();
}
