// adamas-bench run <suite>: every task of a suite file, through the same runner as the task
// commands. `run --resume <dir>` alone continues a run from what its meta.json recorded.
import { Command } from 'commander';
import { applyOverrides, findSuite, readSuiteFile, type Suite } from '../config/suite.js';
import { UsageError } from '../core/errors.js';
import { taskNames, type TaskName } from '../core/job.js';
import { executeRun, type RunOptions } from '../runner/execute-run.js';
import { resumeRequest } from '../runner/run-directory.js';
import type { TaskRegistry } from '../tasks/task-registry.js';
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
    const suite = applyOverrides(request.suite, overrides);
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
