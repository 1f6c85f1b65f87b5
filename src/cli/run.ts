// adamas-bench run <suite>: every task of a suite file, through the same runner as the task
// commands. `run --resume <dir>` alone continues a run from what its meta.json recorded.
import { Command } from 'commander';
import { applyOverrides, findSuite, readSuiteFile, validateSuite, type Suite } from '../config/suite.js';
import { readMeta } from '../results/meta.js';
import type { TaskRegistry } from '../tasks/task-registry.js';
import { executeRun, type RunOptions } from '../runner/run.js';
import { taskNames, type TaskName } from '../core/job.js';
import { UsageError } from '../core/errors.js';
import { listOf } from './parse.js';
import { addRunOptions, runExamplesFooter, runSettings, type RunFlags } from './run-options.js';

interface SuiteRunFlags extends RunFlags {
  tasks?: TaskName[];
}

export function runCommand(registry: TaskRegistry): Command {
  const cmd = new Command('run')
    .description('run a suite (a JSON file, or the name of one under suites/) or continue a run')
    .argument('[suite]', "suite file or name (e.g. ci-smoke, paper); omit with --resume <dir> to continue that run")
    .option('--tasks <list>', `only these tasks of the suite (${taskNames.join(', ')})`, listOf(taskNames));
  addRunOptions(cmd);
  cmd.addHelpText('after', `
Examples:
  $ adamas-bench run ci-smoke                      # the CPU smoke suite (a few minutes)
  $ adamas-bench run suites/paper.json --dry-run   # the plan of the paper's tables
  $ adamas-bench run paper --tasks passkey,ppl --budgets 64,256
  $ adamas-bench run paper --shard 2/8 --out results/runs/paper-s2
  $ adamas-bench run --resume results/runs/paper-20250101T000000Z
${runExamplesFooter}`);
  return cmd.action(async (suiteArg: string | undefined, flags: SuiteRunFlags, command: Command) => {
    const { overrides, options } = runSettings(command, flags);
    let suite: Suite;
    let source: string;
    let runOptions: RunOptions = { ...options, ...(flags.tasks && { tasks: flags.tasks }) };
    if (suiteArg !== undefined) {
      source = findSuite(suiteArg);
      suite = readSuiteFile(source);
    } else {
      if (typeof flags.resume !== 'string' && !(flags.resume === true && flags.out))
        throw new UsageError('run needs a suite (a file or a name under suites/), or --resume <dir> to continue a run');
      const dir = typeof flags.resume === 'string' ? flags.resume : flags.out!;
      const meta = readMeta(dir);
      source = `${dir}/meta.json (suiteDefinition)`;
      suite = validateSuite(meta.suiteDefinition, source);
      const o = meta.options;
      runOptions = {
        ...(o.devices && { devices: o.devices }),
        ...(o.tasks && { tasks: o.tasks as TaskName[] }),
        ...(o.dataDir && { dataDir: o.dataDir }),
        ...(o.threads && { threads: o.threads }),
        ...(meta.shard && { shard: meta.shard }),
        ...runOptions,
        device: command.getOptionValueSource('device') === 'cli' ? flags.device : (o.device as RunOptions['device']),
        resume: dir,
      };
    }
    suite = applyOverrides(suite, overrides);
    const outcome = await executeRun({
      suite,
      source,
      registry,
      options: { ...runOptions, device: command.getOptionValueSource('device') === 'cli' ? flags.device : suite.device ?? runOptions.device },
      argv: process.argv.slice(2),
    });
    process.exitCode = outcome.exitCode;
  });
}
