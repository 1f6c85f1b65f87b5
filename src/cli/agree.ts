// adamas-bench agree <run-a> <run-b>: whether two runs of one plan on different backends agree
// within their noise (src/stats/agreement.ts). Exit 0 when every cell is within its band, 1 when
// a difference is significant, 2 on bad input.
import { Command, InvalidArgumentError } from 'commander';
import { existsSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import { readJobs, readRun } from '../results/read.js';
import { readJobRecords, type JobRecords } from '../results/records.js';
import { runPath } from '../results/rundir.js';
import { formatAgreement, type AgreeSideInfo } from '../report/agreement-table.js';
import { agreeDefaults, agreement, type AgreeSide } from '../stats/agreement.js';

interface AgreeFlags {
  alpha?: number;
  pplBand?: number;
  logitTolerance?: number;
  json: boolean;
}

function fraction(value: string): number {
  const v = Number(value);
  if (value.trim() === '' || !(v > 0 && v < 1)) throw new InvalidArgumentError('must be a number between 0 and 1 (exclusive)');
  return v;
}

function positive(value: string): number {
  const v = Number(value);
  if (value.trim() === '' || !(v > 0) || !Number.isFinite(v)) throw new InvalidArgumentError('must be a positive number');
  return v;
}

function side(dir: string): { side: AgreeSide; info: AgreeSideInfo } {
  if (!existsSync(dir)) throw new UsageError(`${dir}: no such run directory`);
  if (!existsSync(runPath(dir, 'meta')) || !existsSync(runPath(dir, 'jobs')))
    throw new UsageError(`${dir} is not a run directory (it needs meta.json and jobs.jsonl)`);
  const run = readRun(dir);
  const cache = new Map<string, JobRecords | undefined>();
  const records = (id: string) => {
    if (!cache.has(id)) cache.set(id, readJobRecords(dir, id));
    return cache.get(id);
  };
  const d = run.meta.device;
  return { side: { dir, rows: run.rows, jobs: readJobs(dir), records }, info: { dir, device: d ? `${d.kind}${d.names?.length ? ` (${d.names.join(', ')})` : ''}` : 'unknown device' } };
}

export function agreeCommand(): Command {
  const cmd = new Command('agree')
    .description('do two runs of one plan on different backends agree within their noise? exit code 1 when they differ')
    .argument('<run-a>', 'a run directory (e.g. the CPU run)')
    .argument('<run-b>', 'a run directory of the same plan (e.g. the CUDA run)')
    .option('--alpha <p>', `family-wise level of the paired accuracy tests (default ${agreeDefaults.alpha})`, fraction)
    .option('--ppl-band <fraction>', `largest |ppl_b / ppl_a - 1| that agrees (default ${agreeDefaults.pplBand}: 1%)`, fraction)
    .option('--logit-tolerance <x>', `largest |logit difference| of a replayed decode step that agrees (default ${agreeDefaults.logitTolerance})`, positive)
    .option('--json', 'print the agreement as JSON', false);
  cmd.addHelpText('after', `
Per task, method, budget and length (depths pooled): the accuracies of both runs, their trials
paired case by case (exact McNemar; the sign test for scores), Holm-adjusted over the cells: "no
difference" unless p <= --alpha. Perplexity: the ratio b / a, within --ppl-band. With
--record-selection on both runs: the share of selections (step, layer, head) the two agree on
(mean Jaccard, identical sets). Full attention and StreamingLLM: the cases whose answers differ,
with each run's top-1 margin at the first step where the tokens part (--record-logits on both).
A run with --replay-selection of the other and --record-logits on both: the largest |logit
difference| of each replayed step, within --logit-tolerance.
Exit code: 1 when a cell differs beyond its band, 0 otherwise, 2 on bad input.

Examples:
  $ adamas-bench passkey --device cpu  --budget 64 --lengths 2048 --record-selection --record-logits --out cpu
  $ adamas-bench passkey --device cuda --budget 64 --lengths 2048 --record-selection --record-logits --out cuda
  $ adamas-bench agree cpu cuda
  $ adamas-bench passkey --device cuda --budget 64 --lengths 2048 --replay-selection cpu --record-logits --out replay
  $ adamas-bench agree cpu replay --json`);
  return cmd.action((dirA: string, dirB: string, flags: AgreeFlags) => {
    const a = side(dirA);
    const b = side(dirB);
    const result = agreement(a.side, b.side, {
      ...(flags.alpha !== undefined && { alpha: flags.alpha }),
      ...(flags.pplBand !== undefined && { pplBand: flags.pplBand }),
      ...(flags.logitTolerance !== undefined && { logitTolerance: flags.logitTolerance }),
    });
    const compared = result.accuracy.length + result.perplexity.length + result.selections.length + result.replays.length;
    if (compared === 0)
      throw new UsageError(`${dirA} and ${dirB} share no measurement: nothing to compare`, 'agree compares two runs of the same plan (the same command and flags) on different backends');
    process.stdout.write(flags.json ? `${JSON.stringify({ a: a.info, b: b.info, ...result }, null, 2)}\n` : formatAgreement(result, a.info, b.info));
    if (result.differences > 0) process.exitCode = 1;
  });
}
