// adamas-bench selftest: check a build, in about a minute: the layer attention of each backend
// against its reference on fresh random inputs, then the engine on the default model against the
// golden fixtures (and the CUDA engine against the CPU's). Exit 1 on any failure, 2 on bad input
// (--device cuda where this build or machine has no CUDA).
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadAddon } from '../native/addon.js';
import { formatSelftest } from '../report/selftest-table.js';
import { runSelftest, type SelftestDevice } from '../selftest/selftest.js';
import { positiveInt } from './parse.js';

interface SelftestFlags {
  device: SelftestDevice;
  seed?: number;
  json: boolean;
  engine: boolean;
  cacheDir?: string;
  threads?: number;
}

/** A seed JavaScript and the native side hold exactly: an integer in [0, 2^53). */
function seedValue(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`'${value}' is not an integer in [0, 2^53)`);
  return n;
}

export function selftestCommand(): Command {
  const cmd = new Command('selftest')
    .description('check this build: each backend\'s layer attention against its reference on random inputs, then the engine on the default model')
    .addOption(new Option('--device <kind>', 'cpu: the CPU checks only; cuda: the CUDA checks too (an error where CUDA is missing); auto: cuda where available').choices(['auto', 'cpu', 'cuda']).default('auto'))
    .option('--seed <n>', 'seed of the random inputs (default: from the clock; the table prints it)', seedValue)
    .option('--json', 'print the report (every check) as JSON', false)
    .option('--engine', 'fail when the engine checks cannot run (the default model not cached)', false)
    .option('--cache-dir <dir>', 'model cache (env ADAMAS_BENCH_CACHE; default ~/.cache/adamas-bench)')
    .option('--threads <n>', 'CPU threads of the CPU engine (default: all cores)', positiveInt);
  cmd.addHelpText('after', `
Layer attention, over a grid (GQA groups 1/3/4/8, head_dim 64 and 128, lengths below the budget,
budget 1, lengths that are no multiple of the page, every method, GQA per query and per KV head):
  cpu  against a plain reference (the definitions in double precision): selections exact,
       attention |d| <= 1e-4 + 1e-4 |ref|, recall mass |d| <= 1e-4;
  cuda against the CPU layer on the same fp16 inputs: selections exact, attention (also over the
       CPU's selection, as --replay-selection attends, and for a batch of 3 sequences) |d| <=
       1e-3 + 1e-3 |cpu|, recall mass |d| <= 1e-4.
Engine, on the default model when it is cached ('adamas-bench models fetch'; without it the
engine checks are skipped with a note, or fail with --engine):
  cpu  against transformers (test/fixtures/golden): top-20 logits at the last position of three
       prompts within 1e-3, greedy tokens of two prompts equal for 16 steps;
  cuda against the CPU engine: every logit at the last position within 5e-2 (fp16 weights, as
       the tasks run) and within 2e-2 with f32 weights (the CPU's weights exactly), greedy
       tokens (full attention) equal for 16 steps.
Without CUDA (build or device) the CUDA checks are not run and the report says why; they never
count as passed. Exit code: 1 when a check fails, 0 otherwise, 2 on bad input.

Examples:
  $ adamas-bench selftest                     # CUDA too where this build has it
  $ adamas-bench selftest --device cuda --seed 12345
  $ adamas-bench selftest --device cpu --json`);
  return cmd.action(async (flags: SelftestFlags) => {
    const report = await runSelftest({
      device: flags.device,
      ...(flags.seed !== undefined && { seed: flags.seed }),
      requireEngine: flags.engine,
      ...(flags.cacheDir !== undefined && { cacheDir: flags.cacheDir }),
      ...(flags.threads !== undefined && { threads: flags.threads }),
    }, { addon: loadAddon() });
    process.stdout.write(flags.json ? `${JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2)}\n` : formatSelftest(report));
    if (report.failures > 0) process.exitCode = 1;
  });
}
