// adamas-bench run <suite>: every task of a suite file, through the same runner as the task
// commands. `run --resume <dir>` alone continues a run from what its meta.json recorded.
import { Command } from 'commander';
import { applyOverrides, findSuite, readSuiteFile, type Suite } from '../config/suite.js';
import { UsageError } from '../core/errors.js';
import { taskNames, type TaskName } from '../core/job.js';
import { executeRun, type RunOptions } from '../runner/execute-run.js';
import { resumeRequest } from '../runner/run-directory.js';
import type { TaskRegistry } from '../tasks/task-registry.js';
import { listOf, positiveNumber } from './parse.js';
import { addRunOptions, runExamplesFooter, runSettings, type RunFlags } from './run-options.js';

interface SuiteRunFlags extends RunFlags {
  tasks?: TaskName[];
  thresholdJitter?: number;
}

/** The suite with `thresholdJitter` in each selected task entry; every one must take it. */
function withThresholdJitter(suite: Suite, e: number, registry: TaskRegistry, only: readonly TaskName[] | undefined): Suite {
  const s = structuredClone(suite);
  const selected = s.tasks.filter((t) => !only || only.includes(t.task));
  const takes = (t: TaskName) => (registry[t]?.flags ?? []).some((f) => f.key === 'thresholdJitter');
  const others = [...new Set(selected.map((t) => t.task).filter((t) => !takes(t)))];
  if (others.length) {
    const able = [...new Set(selected.map((t) => t.task).filter(takes))];
    throw new UsageError(`--threshold-jitter is an option of the accuracy tasks (passkey, ruler, longbench), not of ${others.join(', ')}`,
      able.length ? `select the others with --tasks ${able.join(',')}` : undefined);
  }
  for (const t of selected) t.thresholdJitter = e;
  return s;
}

export function runCommand(registry: TaskRegistry): Command {
  const cmd = new Command('run')
    .description('run a suite (a JSON file, or the name of one under suites/) or continue a run')
    .argument('[suite]', "suite file or name (e.g. ci-smoke, paper); omit with --resume <dir> to continue that run")
    .option('--tasks <list>', `only these tasks of the suite (${taskNames.join(', ')})`, listOf(taskNames))
    .option('--threshold-jitter <E>', 'passkey, ruler, longbench: also decode each case of adamas with every threshold moved by +E and by -E (stability)', positiveNumber);
  addRunOptions(cmd);
  cmd.addHelpText('after', `
Examples:
  $ adamas-bench run ci-smoke                      # the CPU smoke suite (a few minutes)
  $ adamas-bench run suites/paper.json --dry-run   # the plan of the paper's tables
  $ adamas-bench run paper --tasks passkey,ppl --budgets 64,256
  $ adamas-bench run paper --shard 2/8 --out results/runs/paper-s2
  $ adamas-bench run paper --tasks passkey --methods adamas --budgets 64 --threshold-jitter 1e-5
  $ adamas-bench run --resume results/runs/paper-20250101T000000Z
${runExamplesFooter}`);
  return cmd.action(async (suiteArg: string | undefined, flags: SuiteRunFlags, command: Command) => {
    const { overrides, options } = runSettings(command, flags);
    const fromFlags: RunOptions = { ...options, ...(flags.tasks && { tasks: flags.tasks }) };
    const deviceFlag = command.getOptionValueSource('device') === 'cli' ? flags.device : undefined;
    let request: { suite: Suite; source: string; options: RunOptions };
    if (suiteArg !== undefined) {
      const source = findSuite(suiteArg);
      request = { suite: readSuiteFile(source), source, options: fromFlags };
    } else {
      if (typeof flags.resume !== 'string' && !(flags.resume === true && flags.out))
        throw new UsageError('run needs a suite (a file or a name under suites/), or --resume <dir> to continue a run');
      request = resumeRequest(typeof flags.resume === 'string' ? flags.resume : flags.out!, fromFlags, deviceFlag);
    }
    const given = applyOverrides(request.suite, overrides);
    const suite = flags.thresholdJitter === undefined ? given : withThresholdJitter(given, flags.thresholdJitter, registry, flags.tasks);
    const outcome = await executeRun({
      suite,
      source: request.source,
      registry,
      options: { ...request.options, device: deviceFlag ?? suite.device ?? request.options.device },
      argv: process.argv.slice(2),
    });
    process.exitCode = outcome.exitCode;
  });
}
