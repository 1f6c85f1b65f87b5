// adamas-bench report: charts (Vega-Lite -> SVG, no browser) and an index.html for one run.
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command } from 'commander';
import { loadRegressionConfig } from '../stats/regression-config.js';
import { buildReport } from '../report/index.js';
import { loadInput } from '../report/input.js';

interface ReportFlags {
  out?: string;
  config?: string;
}

export function reportCommand(): Command {
  const cmd = new Command('report')
    .description("render a run's figures (SVG) and an index.html with summary tables")
    .argument('<run>', 'run directory (or a results CSV file)')
    .option('-o, --out <dir>', 'output directory (default: <run>/report)')
    .option('--config <file>', 'regression config whose trial_keys say which case parameters are repeats (default: configs/regression.json)');
  cmd.addHelpText('after', `
Figures (each drawn when the run has data for it; index.html lists the ones skipped and why):
accuracy / score against budget per task and data set, the passkey heat map (depth x length),
perplexity against budget, kernel latency by component, speedup over full attention against
context length. Each figure is written as <id>.vl.json and <id>.svg.

Examples:
  $ adamas-bench report results/runs/paper-20250101T000000Z
  $ adamas-bench report results/runs/ci-smoke-20250101T000000Z --out /srv/www/ci-smoke`);
  return cmd.action(async (run: string, flags: ReportFlags) => {
    const input = loadInput(run);
    const isDir = statSync(run).isDirectory();
    const outDir = flags.out ?? join(isDir ? run : dirname(run), 'report');
    // the trial keys of the regression config decide what counts as a repeat of a measurement
    const { config } = loadRegressionConfig(flags.config);
    if (input.rows.length === 0) process.stderr.write(`warning: ${run} has no result rows; the report will be empty\n`);
    const result = await buildReport(input, outDir, {
      trialKeys: config.trial_keys,
      onFigure: (id, k, n) => process.stderr.write(`Figure [${k}/${n}] ${id}\n`),
    });
    for (const s of result.skipped) process.stderr.write(`skipped: ${s.title}: ${s.reason}\n`);
    process.stdout.write(`${result.index}\n`);
  });
}
