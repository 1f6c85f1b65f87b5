// adamas-bench ablate: Adamas with and without one or more of its design choices, side by side on
// one task (default passkey), and the paired test of the variant against the default on the same
// cases: whether the ablation changed the task's primary metric, and by how much.
import { Command, Option } from 'commander';
import { applyOverrides, type Suite } from '../config/suite.js';
import { UsageError } from '../core/errors.js';
import { taskNames, type TaskName } from '../core/job.js';
import { knobChanges, makeSpec, methodSeries, type MethodKnobs } from '../methods/spec.js';
import { collectAblation, formatAblation } from '../report/ablation.js';
import { formatStability, summarize } from '../report/run-summary.js';
import { executeRun } from '../runner/execute-run.js';
import { requireTask, type TaskRegistry } from '../tasks/task-registry.js';
import type { TaskFlag } from '../tasks/types.js';
import { addKnobOptions, givenKnobs, type KnobFlags } from './knob-options.js';
import { addRunOptions, runExamplesFooter, runSettings, type RunFlags } from './run-options.js';
import { attributeOf, taskOption, taskOptionsFrom } from './task-command.js';

interface AblateFlags extends RunFlags, KnobFlags {
  task: TaskName;
}

/** Flags of every registered task, once each (the chosen task must define the ones given). */
function allTaskFlags(registry: TaskRegistry): TaskFlag[] {
  const seen = new Map<string, TaskFlag>();
  for (const name of taskNames) for (const f of registry[name]?.flags ?? []) if (!seen.has(attributeOf(f))) seen.set(attributeOf(f), f);
  return [...seen.values()];
}

export function ablateCommand(registry: TaskRegistry): Command {
  const cmd = new Command('ablate')
    .description('Adamas with and without an ablation (flags below) on the same cases, and the paired test of the difference')
    .addOption(new Option('--task <name>', 'task to measure on').choices(['passkey', 'ppl', 'ruler', 'longbench']).default('passkey'));
  addRunOptions(cmd, { methods: false });
  addKnobOptions(cmd);
  const taskFlags = allTaskFlags(registry);
  for (const f of taskFlags) cmd.addOption(taskOption(f));
  cmd.addHelpText('after', `
Ablation flags: --no-hadamard, --distance l2, --bits 1|3, --granularity page, --thresholds a,b,c|auto,
--gqa kv, --skip-layers <n> (several together make one variant).

Examples:
  $ adamas-bench ablate --no-hadamard --budget 64
  $ adamas-bench ablate --bits 1 --task ppl --budgets 64,256
  $ adamas-bench ablate --distance l2 --granularity page --task ruler --dry-run
  $ adamas-bench ablate --bits 1 --budget 64 --lengths 2048 --threshold-jitter 1e-5
${runExamplesFooter}`);
  return cmd.action(async (flags: AblateFlags & Record<string, unknown>, command: Command) => {
    const mod = requireTask(registry, flags.task);
    const ablation: Partial<MethodKnobs> = givenKnobs(command, flags) ?? {};
    const variant = makeSpec('adamas', 1, ablation);
    if (knobChanges(variant).length === 0)
      throw new UsageError('ablate needs at least one ablation that differs from the default Adamas',
        'e.g. --no-hadamard, --distance l2, --bits 1, --granularity page, --thresholds auto, --gqa kv, --skip-layers 0');
    const own = taskOptionsFrom(command, flags, taskFlags);
    const known = new Set((mod.flags ?? []).map((f) => f.key));
    for (const f of taskFlags)
      if (f.key in own && !known.has(f.key)) throw new UsageError(`${f.flags.split(/[ ,]/)[0]} is not an option of the ${flags.task} task`);
    const { overrides, options } = runSettings(command, flags);
    const base: Suite = {
      name: `ablate-${flags.task}`,
      tasks: [{ task: flags.task, ...own, methods: ['adamas', { method: 'adamas', knobs: ablation }] }],
    };
    const suite = applyOverrides(base, overrides);
    // the baseline is the default Adamas: only the variant carries the ablation knobs
    const outcome = await executeRun({
      suite, source: `the ablate options`, registry, options: { ...options, device: suite.device ?? 'auto' },
      argv: process.argv.slice(2), summary: false, pathOf: () => '',
    });
    if (outcome.data?.rows.length) {
      const baseline = methodSeries(makeSpec('adamas', 1));
      const ablated = methodSeries(variant);
      process.stdout.write(`${formatAblation(collectAblation(outcome.data.rows, baseline, ablated))}\n`);
      const stability = summarize(outcome.data.rows).map(formatStability).filter((s) => s !== '');
      if (stability.length) process.stdout.write(`${stability.join('')}\n`);
    }
    process.exitCode = outcome.exitCode;
  });
}

