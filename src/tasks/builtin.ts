// The task modules of this build, by task name (loaded through src/tasks/task-registry.ts). A task
// without a module here is reported as not implemented.
import type { TaskName } from '../core/job.js';
import { e2eTask } from './e2e/index.js';
import { kernelsTask } from './kernels/index.js';
import { longBenchTask } from './longbench/index.js';
import { passkeyTask } from './passkey/index.js';
import { pplTask } from './ppl/index.js';
import { rulerTask } from './ruler/index.js';
import type { TaskModule } from './types.js';

export const taskModules: Partial<Record<TaskName, TaskModule<any>>> = {
  passkey: passkeyTask,
  ppl: pplTask,
  longbench: longBenchTask,
  ruler: rulerTask,
  e2e: e2eTask,
  kernels: kernelsTask,
};
