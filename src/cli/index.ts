// The adamas-bench program: one command a module, errors through one sink.
import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { taskNames } from '../core/job.js';
import { loadTaskRegistry, type TaskRegistry } from '../tasks/task-registry.js';
import { ablateCommand } from './ablate.js';
import { agreeCommand } from './agree.js';
import { compareCommand } from './compare.js';
import { doctorCommand } from './doctor.js';
import { generateCommand } from './generate.js';
import { handleError } from './handle-error.js';
import { mergeCommand } from './merge.js';
import { modelsCommand } from './models.js';
import { reportCommand } from './report.js';
import { runCommand } from './run.js';
import { selftestCommand } from './selftest.js';
import { taskCommand } from './task-command.js';

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };

export function buildProgram(registry: TaskRegistry = {}): Command {
  const program = new Command('adamas-bench')
    .description('Accuracy and speed of sparse attention (full, StreamingLLM, Quest, Adamas) for long-context decoding')
    .version(pkg.version)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const task of taskNames) program.addCommand(taskCommand(task, registry));
  for (const cmd of [
    ablateCommand(registry),
    runCommand(registry),
    reportCommand(),
    compareCommand(),
    agreeCommand(),
    mergeCommand(),
    modelsCommand(),
    generateCommand(),
    doctorCommand(registry),
    selftestCommand(),
  ]) program.addCommand(cmd);
  program.addHelpText('after', `
Examples:
  $ adamas-bench passkey --budget 64              # passkey retrieval on the default model, all methods
  $ adamas-bench run ci-smoke                     # a suite under suites/ (or a path to one)
  $ adamas-bench ablate --no-hadamard --budget 64 # Adamas with and without the Hadamard transform
  $ adamas-bench report results/runs/<run>        # charts and tables of a run
  $ adamas-bench doctor                           # what this machine can run
  $ adamas-bench selftest                         # check this build: each backend against its reference`);
  for (const cmd of program.commands) propagateExitOverride(cmd);
  return program;
}

function propagateExitOverride(cmd: Command): void {
  cmd.exitOverride();
  for (const sub of cmd.commands) propagateExitOverride(sub);
}

export async function main(argv: string[]): Promise<void> {
  try {
    const registry = await loadTaskRegistry();
    await buildProgram(registry).parseAsync(argv);
  } catch (err) {
    // commander has already printed its own message; usage errors exit 2, help and version 0
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
    handleError(err);
  }
}
