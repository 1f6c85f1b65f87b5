// adamas-bench merge: join the shard runs of one plan into one run directory.
import { Command } from 'commander';
import { UsageError } from '../core/errors.js';
import { mergeRuns } from '../results/merge.js';
import { shellLine } from '../results/meta.js';

export function mergeCommand(): Command {
  return new Command('merge')
    .description('join shard runs of one plan (--shard i/n) into one run directory')
    .argument('<dirs...>', 'run directories of the shards')
    .requiredOption('-o, --out <dir>', 'the merged run directory (must not exist or be empty)')
    .addHelpText('after', `
The shards must come from the same command line with different --shard i/n (same suite, same plan);
a job may appear in one shard only. Rows keep their values; run_id becomes the merged run's.

Examples:
  $ adamas-bench merge results/runs/paper-s1 results/runs/paper-s2 --out results/runs/paper
  $ adamas-bench merge shards/* --out results/runs/paper-all && adamas-bench report results/runs/paper-all`)
    .action((dirs: string[], flags: { out: string }) => {
      if (dirs.length < 1) throw new UsageError('merge needs run directories');
      const r = mergeRuns(dirs, flags.out, shellLine(process.argv.slice(2)), process.argv.slice(2));
      process.stderr.write(`merged ${dirs.length} runs into ${r.dir}: ${r.jobs} jobs, ${r.ok} ok, ${r.failed} failed, ${r.pending} not run\n`);
      if (r.missingShards.length)
        process.stderr.write(`warning: shards ${r.missingShards.join(', ')} are missing; the merged run is incomplete\n`);
      if (r.failed || r.pending) process.stderr.write(`finish it with: adamas-bench run --resume ${r.dir}\n`);
    });
}
