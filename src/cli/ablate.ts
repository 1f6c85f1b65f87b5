// adamas-bench ablate: Adamas with and without one or more of its design choices, side by side on
// one task (default passkey), and the difference of the task's primary metric.
import { Command, Option } from 'commander';
import { applyOverrides, type Suite } from '../config/suite.js';
import { knobChanges, makeSpec, methodSeries, type MethodKnobs } from '../methods/spec.js';
import type { ResultRow } from '../results/columns.js';
import type { TaskRegistry } from '../tasks/task-registry.js';
import { requireTask } from '../tasks/task-registry.js';
import { executeRun } from '../runner/run.js';
import { summarize } from '../runner/summary.js';
import { formatNumber, formatTable } from '../runner/table.js';
import { taskNames, type TaskName } from '../core/job.js';
import type { TaskFlag } from '../tasks/types.js';
import { UsageError } from '../core/errors.js';
import { addKnobOptions, givenKnobs, type KnobFlags } from './knob-options.js';
import { addRunOptions, runExamplesFooter, runSettings, type RunFlags } from './run-options.js';
import { attributeOf, taskOption, taskOptionsFrom } from './task-command.js';

interface AblateFlags extends RunFlags, KnobFlags {
  task: TaskName;
}

export interface AblationRow {
  budget: number;
  column: string;
  baseline?: number;
  ablated?: number;
  difference?: number;
}

/** The baseline's and the ablated variant's primary metric per budget and length (or data set),
 *  from the run's summary table; `baseline` and `ablated` are the two method series. */
export function collectAblation(rows: readonly ResultRow[], baseline: string, ablated: string): { metric: string; rows: AblationRow[] } {
  const table = summarize(rows)[0];
  if (!table) return { metric: '', rows: [] };
  const cells = new Map<string, AblationRow>();
  for (const row of table.rows) {
    const { series, budget } = row;
    if (budget === undefined || (series !== baseline && series !== ablated)) continue;
    table.columns.forEach((column, i) => {
      const value = row.cells[i];
      if (value === undefined) return;
      const key = `${budget}\u0000${column}`;
      const cell = cells.get(key) ?? { budget, column };
      cells.set(key, cell);
      if (series === baseline) cell.baseline = value;
      else cell.ablated = value;
    });
  }
  const order = (c: AblationRow) => table.columns.indexOf(c.column);
  const out = [...cells.values()].sort((x, y) => x.budget - y.budget || order(x) - order(y));
  for (const c of out) if (c.baseline !== undefined && c.ablated !== undefined) c.difference = c.ablated - c.baseline;
  return { metric: table.metric, rows: out };
}

export function formatAblation(task: string, metric: string, baseline: string, ablated: string, rows: readonly AblationRow[]): string {
  const f = (v: number | undefined) => (v === undefined ? '-' : formatNumber(v));
  const numeric = rows.every((r) => /^\d+$/.test(r.column));
  const body = rows.map((r) => [String(r.budget), r.column, f(r.baseline), f(r.ablated),
    r.difference === undefined ? '-' : `${r.difference > 0 ? '+' : ''}${formatNumber(r.difference)}`]);
  return `${task}: mean ${metric}, ${ablated} vs ${baseline} (difference = ablated - baseline)\n` +
    formatTable(['budget', numeric ? 'len' : 'dataset', baseline, ablated, 'difference'], body, 2);
}

/** Flags of every registered task, once each (the chosen task must define the ones given). */
function allTaskFlags(registry: TaskRegistry): TaskFlag[] {
  const seen = new Map<string, TaskFlag>();
  for (const name of taskNames) for (const f of registry[name]?.flags ?? []) if (!seen.has(attributeOf(f))) seen.set(attributeOf(f), f);
  return [...seen.values()];
}

export function ablateCommand(registry: TaskRegistry): Command {
  const cmd = new Command('ablate')
    .description('Adamas with and without an ablation (flags below) side by side, and the difference')
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
      const t = collectAblation(outcome.data.rows, baseline, ablated);
      process.stdout.write(`${formatAblation(flags.task, t.metric, baseline, ablated, t.rows)}\n`);
    }
    process.exitCode = outcome.exitCode;
  });
}

