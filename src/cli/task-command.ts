// The task commands (passkey, ppl, longbench, ruler, kernels, e2e), made by one factory from the
// task registry: the shared run flags, the method knobs, and the task's own flags. A task command
// builds a one-task suite in memory and goes through the same runner as `run <suite>`.
import { Command, InvalidArgumentError, Option } from 'commander';
import { applyOverrides, type Suite, type SuiteTask } from '../config/suite.js';
import type { TaskName } from '../core/job.js';
import { executeRun } from '../runner/execute-run.js';
import { requireTask, type TaskRegistry } from '../tasks/task-registry.js';
import type { TaskFlag } from '../tasks/types.js';
import { addKnobOptions, givenKnobs, type KnobFlags } from './knob-options.js';
import { addRunOptions, runExamplesFooter, runSettings, type RunFlags } from './run-options.js';

/** One line per task for --help, used when the task's module is not built (yet). */
export const taskBlurbs: Record<TaskName, string> = {
  passkey: 'passkey retrieval: find a number hidden at a depth of a long filler text',
  ppl: 'perplexity of long text (PG-19) decoded token by token',
  longbench: 'LongBench v1 tasks (QA, summarisation, few-shot, synthetic, code)',
  ruler: 'RULER-style synthetic tasks (needles, variable tracking, word extraction)',
  kernels: 'microbenchmarks of the attention kernels (NVBench-style timing)',
  e2e: 'end-to-end decode latency of a model',
};

function intValue(v: string): number {
  if (!/^\s*-?\d+\s*$/.test(v)) throw new InvalidArgumentError(`'${v}' is not an integer`);
  return Number(v);
}

function numberValue(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`'${v}' is not a number`);
  return n;
}

function listValue<T>(item: (s: string) => T) {
  return (value: string): T[] => {
    const parts = value.split(',').map((s) => s.trim());
    if (parts.every((p) => p === '')) throw new InvalidArgumentError('must not be empty');
    if (parts.some((p) => p === '')) throw new InvalidArgumentError(`'${value}' has an empty item`);
    return parts.map(item);
  };
}

function choiceCheck(choices: string[] | undefined) {
  return (s: string): string => {
    if (choices && !choices.includes(s)) throw new InvalidArgumentError(`unknown value '${s}' (expected ${choices.join(', ')})`);
    return s;
  };
}

/** A commander option for a task flag. */
export function taskOption(f: TaskFlag): Option {
  const opt = new Option(f.flags, f.description);
  switch (f.parse ?? 'string') {
    case 'int': return opt.argParser(intValue);
    case 'intList': return opt.argParser(listValue(intValue));
    case 'number': return opt.argParser(numberValue);
    case 'numberList': return opt.argParser(listValue(numberValue));
    case 'stringList': return opt.argParser(listValue(choiceCheck(f.choices)));
    case 'boolean': return opt;
    default: return f.choices ? opt.choices(f.choices) : opt;
  }
}

/** Commander's attribute name of a flag ('--max-tokens <n>' -> 'maxTokens'). */
export function attributeOf(f: TaskFlag): string {
  return new Option(f.flags).attributeName();
}

/** The task options the user typed (task flags -> option keys). */
export function taskOptionsFrom(cmd: Command, flags: Record<string, unknown>, taskFlags: readonly TaskFlag[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of taskFlags) {
    const attr = attributeOf(f);
    if (cmd.getOptionValueSource(attr) === 'cli' && flags[attr] !== undefined) out[f.key] = flags[attr];
  }
  return out;
}

function defaultExamples(name: TaskName): string[] {
  return [
    `adamas-bench ${name} --budget 64`,
    `adamas-bench ${name} --methods adamas,quest --budgets 64,256 --dry-run`,
    `adamas-bench ${name} --shard 1/4 --out results/runs/${name}-s1`,
  ];
}

export function taskCommand(name: TaskName, registry: TaskRegistry): Command {
  const module = registry[name];
  const taskFlags = module?.flags ?? [];
  const cmd = new Command(name).description(`${module?.description ?? taskBlurbs[name]}${module ? '' : ' (not implemented in this build yet)'}`);
  addRunOptions(cmd);
  addKnobOptions(cmd);
  for (const f of taskFlags) cmd.addOption(taskOption(f));
  const examples = module?.examples ?? defaultExamples(name);
  cmd.addHelpText('after', `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n${runExamplesFooter}`);
  return cmd.action(async (flags: RunFlags & KnobFlags & Record<string, unknown>, command: Command) => {
    const mod = requireTask(registry, name);
    const { overrides, options } = runSettings(command, flags);
    const knobs = givenKnobs(command, flags);
    const entry: SuiteTask = { task: name, ...taskOptionsFrom(command, flags, mod.flags ?? []) };
    const suite: Suite = applyOverrides({ name, tasks: [entry] }, { ...overrides, ...(knobs && { knobs }) });
    const outcome = await executeRun({
      suite,
      source: `the ${name} options`,
      registry,
      options: { ...options, device: suite.device ?? 'auto' },
      argv: process.argv.slice(2),
      pathOf: () => '',
    });
    process.exitCode = outcome.exitCode;
  });
}
