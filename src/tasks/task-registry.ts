// The task modules the harness can run: src/tasks/builtin.ts, unless the environment variable
// ADAMAS_BENCH_TASK_REGISTRY names another ES module exporting `taskModules` (tests use it to run
// fake tasks in real worker processes; it also lets out-of-tree tasks be tried without a rebuild).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { HarnessError, UsageError } from '../core/errors.js';
import { taskNames, type Job, type TaskName } from '../core/job.js';
import { taskModules as builtIn } from './builtin.js';
import type { TaskModule } from './types.js';

/** Task name -> module; a task without a module is not implemented in this build. */
export type TaskRegistry = Partial<Record<TaskName, TaskModule<any>>>;

export const registryEnv = 'ADAMAS_BENCH_TASK_REGISTRY';

let cached: { key: string; registry: TaskRegistry } | undefined;

/** The registry named by ADAMAS_BENCH_TASK_REGISTRY (loaded once per process), else the built-in one. */
export async function loadTaskRegistry(): Promise<TaskRegistry> {
  const override = process.env[registryEnv];
  if (!override) return checkRegistry(builtIn, 'tasks/builtin.js');
  if (cached?.key === override) return cached.registry;
  let mod: { taskModules?: unknown };
  try {
    mod = (await import(pathToFileURL(resolve(override)).href)) as { taskModules?: unknown };
  } catch (err) {
    throw new HarnessError(`cannot load the task registry ${override} (${registryEnv}): ${(err as Error).message}`);
  }
  cached = { key: override, registry: checkRegistry(mod.taskModules, override) };
  return cached.registry;
}

function checkRegistry(value: unknown, source: string): TaskRegistry {
  if (typeof value !== 'object' || value === null) throw new HarnessError(`${source} does not export taskModules`);
  const out: TaskRegistry = {};
  for (const [name, mod] of Object.entries(value as Record<string, unknown>)) {
    if (mod === undefined || mod === null) continue;
    if (!(taskNames as readonly string[]).includes(name)) throw new HarnessError(`${source}: '${name}' is not a task name (${taskNames.join(', ')})`);
    const m = mod as Partial<TaskModule>;
    for (const fn of ['defaults', 'plan', 'run'] as const)
      if (typeof m[fn] !== 'function') throw new HarnessError(`${source}: task '${name}' has no ${fn}() function`);
    if (typeof m.optionsSchema !== 'object') throw new HarnessError(`${source}: task '${name}' has no optionsSchema`);
    if (m.name !== name) throw new HarnessError(`${source}: the module registered as '${name}' calls itself '${String(m.name)}'`);
    out[name as TaskName] = mod as TaskModule<any>;
  }
  return out;
}

/** The module of `task`, or a usage error (exit 2) saying that this build does not implement it. */
export function requireTask(registry: TaskRegistry, task: TaskName, where?: string): TaskModule<any> {
  const mod = registry[task];
  if (mod) return mod;
  const have = Object.keys(registry);
  throw new UsageError(
    `the '${task}' task is not implemented in this build yet${where ? ` (${where})` : ''}`,
    have.length ? `implemented tasks: ${have.join(', ')}` : 'no task module is built yet',
  );
}

/** Whether the worker running `job` loads its model: its task needs one and it is not a peer's job
 *  (a peer times another implementation, in a process of its own). */
export function jobNeedsModel(registry: TaskRegistry, job: Pick<Job, 'task' | 'peer'>): boolean {
  return registry[job.task]?.needsModel !== false && job.peer === undefined;
}

/** Whether any task of `tasks` needs the model loaded in the workers. */
export function needsModel(registry: TaskRegistry, tasks: Iterable<TaskName>): boolean {
  for (const t of tasks) if (registry[t]?.needsModel !== false) return true;
  return false;
}
