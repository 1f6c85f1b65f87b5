// adamas-bench compare: judge a run against a baseline, one verdict per measurement; exit code 1
// on a regression (CI), 0 otherwise, 2 on bad input.
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadRegressionConfig } from '../stats/regression-config.js';
import { compareRows, type CompareResult } from '../stats/compare.js';
import type { MetricKind } from '../stats/metrics.js';
import { testNames, type TestName } from '../stats/tests.js';
import type { RegressionConfig } from '../stats/thresholds.js';
import { formatCsv, formatMarkdown } from '../report/compare-output.js';
import { loadInput, type LoadedInput } from '../report/input.js';
import { UsageError } from '../core/errors.js';
import { writeWholeFile } from '../core/files.js';

interface CompareFlags {
  config?: string;
  test?: TestName;
  alpha?: number;
  accuracyAlpha?: number;
  minEffect?: number;
  only?: MetricKind;
  csv?: string;
  markdown?: string;
  json: boolean;
  changed: boolean;
  allowMixedDevices: boolean;
}

function probability(value: string): number {
  const v = Number(value);
  if (value.trim() === '' || !(v > 0 && v < 1)) throw new InvalidArgumentError('must be a number between 0 and 1 (exclusive)');
  return v;
}

function nonNegativeNumber(value: string): number {
  const v = Number(value);
  if (value.trim() === '' || !(v >= 0) || !Number.isFinite(v)) throw new InvalidArgumentError('must be a non-negative number, e.g. 0.05 for 5%');
  return v;
}

export interface CompareOutcome {
  result: CompareResult;
  config: RegressionConfig;
  configSource: string;
  baseline: LoadedInput;
  current: LoadedInput;
  warnings: string[];
}

/** Loads both sides and the thresholds and compares; throws UsageError on bad input. */
export function collectComparison(baselinePath: string, currentPath: string, flags: Omit<CompareFlags, 'csv' | 'markdown' | 'json' | 'changed'>): CompareOutcome {
  const { config, source: configSource } = loadRegressionConfig(flags.config);
  if (flags.test !== undefined) config.test = flags.test;
  // a flag applies to every metric: it replaces the per-metric entries too
  if (flags.alpha !== undefined) {
    config.alpha = flags.alpha;
    for (const t of Object.values(config.metrics)) delete t.alpha;
  }
  if (flags.accuracyAlpha !== undefined) config.accuracy_alpha = flags.accuracyAlpha;
  if (flags.minEffect !== undefined) {
    config.min_effect = flags.minEffect;
    for (const t of Object.values(config.metrics)) delete t.min_effect;
  }

  const baseline = loadInput(baselinePath);
  const current = loadInput(currentPath);
  if (baseline.rows.length === 0)
    throw new UsageError(`the baseline ${baselinePath} has no result rows${baseline.failedJobs ? ` (${baseline.failedJobs} failed jobs)` : ''}`);
  const result = compareRows(baseline.rows, current.rows, config, { only: flags.only });
  const matched = result.comparisons.filter((c) => c.verdict !== 'missing' && c.verdict !== 'new').length;
  if (current.rows.length > 0 && matched === 0 && result.comparisons.length > 0)
    throw new UsageError(
      `${baselinePath} and ${currentPath} share no measurement: nothing to compare`,
      'measurements match on task, dataset, model, method label, budget, context length, depth, case and metric',
    );

  const warnings = [...result.warnings];
  const mixed = mixedHardware(baseline.meta?.device?.hardware, current.meta?.device?.hardware);
  if (mixed && result.comparisons.some((c) => c.kind === 'timing')) {
    if (!flags.allowMixedDevices)
      throw new UsageError(`timings come from ${mixed}: they do not compare`,
        'compare accuracy only (--only accuracy), or pass --allow-mixed-devices to compare the timings anyway');
    warnings.push(`timings come from ${mixed}`);
  }
  if (current.failedJobs) warnings.push(`${current.failedJobs} job(s) of the current run failed; their measurements are left out (missing where the baseline has them)`);
  return { result, config, configSource, baseline, current, warnings };
}

/** Why the hardware of two runs (each a list, one entry per worker) makes their timings
 *  incomparable: different kinds between the runs or within one; undefined when it does not. */
export function mixedHardware(baseline: string[] | undefined, current: string[] | undefined): string | undefined {
  const kinds = (list: string[] | undefined) => [...new Set(list ?? [])].sort();
  const b = kinds(baseline), c = kinds(current);
  if (b.length > 1) return `several kinds of device in the baseline (${b.join(', ')})`;
  if (c.length > 1) return `several kinds of device in the current run (${c.join(', ')})`;
  if (b.length === 1 && c.length === 1 && b[0] !== c[0]) return `different devices (baseline: ${b[0]}; current: ${c[0]})`;
  return undefined;
}

function writeOutput(path: string, text: string): void {
  try {
    writeWholeFile(path, text);
  } catch (err) {
    throw new UsageError(`cannot write ${path}: ${(err as Error).message}`);
  }
}

export function compareCommand(): Command {
  const cmd = new Command('compare')
    .description('compare a run with a baseline: a verdict per measurement, exit code 1 on a regression')
    .argument('<baseline>', 'baseline run directory or results CSV file')
    .argument('<current>', 'current run directory or results CSV file')
    .option('--config <file>', 'regression thresholds (default: configs/regression.json)')
    .addOption(new Option('--test <name>', 'test for timings (overrides the config)').choices(testNames))
    .option('--alpha <p>', 'significance level for timings (overrides the config, per-metric entries included)', probability)
    .option('--accuracy-alpha <p>', 'family-wise significance level of the paired accuracy tests (overrides the config)', probability)
    .option('--min-effect <fraction>', 'smallest relative timing change that counts, e.g. 0.05 (overrides the config, per-metric entries included)', nonNegativeNumber)
    .addOption(new Option('--only <kind>', 'compare only accuracy metrics or only timings').choices(['accuracy', 'timing']))
    .option('--csv <file>', 'write every comparison as CSV')
    .option('--markdown <file>', 'write the Markdown table to a file as well')
    .option('--json', 'print the comparison as JSON instead of Markdown', false)
    .option('--changed', 'print only measurements whose verdict is not "same"', false)
    .option('--allow-mixed-devices', 'compare timings measured on different kinds of device (refused otherwise)', false);
  cmd.addHelpText('after', `
Verdicts: regression, improvement, same, noise (a large change the samples cannot confirm),
missing (in the baseline only; fails unless the config says "missing": "info"), new.
Timings need both a change above --min-effect and p <= --alpha. Accuracy metrics (depths
pooled) pair the trials of both runs on their case and test them (exact McNemar for pass/fail,
the sign test for scores), Holm-adjusted over all tested measurements: a regression is a
significant worsening at --accuracy-alpha (default 0.05). The config's absolute / relative
tolerances fail a run beside the test only for the same inputs on the CPU (deterministic runs),
and alone where rows cannot be paired (rows of several trials, perplexity).
Exit code: 1 when anything fails, 0 otherwise, 2 on bad input.

Examples:
  $ adamas-bench compare results/baselines/ci-smoke results/runs/ci-smoke-20250101T000000Z
  $ adamas-bench compare base/results.csv new/results.csv --only accuracy --changed
  $ adamas-bench compare base new --test welch --min-effect 0.1 --csv compare.csv --markdown compare.md`);
  return cmd.action((baselinePath: string, currentPath: string, flags: CompareFlags) => {
    const outcome = collectComparison(baselinePath, currentPath, flags);
    const header = { baseline: baselinePath, current: currentPath, config: outcome.config, configSource: outcome.configSource };
    const markdown = formatMarkdown(outcome.result, header, { onlyChanged: flags.changed });
    if (flags.csv) writeOutput(flags.csv, formatCsv(outcome.result));
    if (flags.markdown) writeOutput(flags.markdown, formatMarkdown(outcome.result, header));
    for (const w of outcome.warnings) if (!outcome.result.warnings.includes(w)) process.stderr.write(`warning: ${w}\n`);
    if (flags.json) {
      const { result, config, configSource, warnings } = outcome;
      process.stdout.write(`${JSON.stringify({ baseline: baselinePath, current: currentPath, configSource, config, ...result, warnings }, null, 2)}\n`);
    } else process.stdout.write(markdown);
    if (outcome.result.regressions > 0) process.exitCode = 1;
  });
}
