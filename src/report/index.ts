// A report of one run: every applicable figure as <id>.vl.json (the Vega-Lite spec) and <id>.svg,
// and index.html with the run's provenance, the summary tables and the figures.
import { makeDirectory, writeWholeFile } from '../core/files.js';
import { basename, join, resolve } from 'node:path';
import { planFigures, type SkippedFigure } from './figures.js';
import { collectSummary, renderIndex } from './html.js';
import type { LoadedInput } from './input.js';
import { renderSvg } from './render.js';

export interface ReportOptions {
  trialKeys?: readonly string[];
  /** Called before each figure is rendered (progress on stderr). */
  onFigure?: (id: string, k: number, total: number) => void;
}

export interface ReportResult {
  outDir: string;
  index: string;
  figures: { id: string; title: string; svg: string; spec: string }[];
  skipped: SkippedFigure[];
}

export async function buildReport(input: LoadedInput, outDir: string, opts: ReportOptions = {}): Promise<ReportResult> {
  makeDirectory(outDir);
  // several models in one run: name each line and table row after its model too
  const multiModel = new Set(input.rows.map((r) => r.model)).size > 1;
  const rows = multiModel ? input.rows.map((r) => ({ ...r, label: `${r.model}/${r.label || r.method}` })) : input.rows;
  const plan = planFigures(rows, { trialKeys: opts.trialKeys });
  const written: ReportResult['figures'] = [];
  for (const [i, fig] of plan.figures.entries()) {
    opts.onFigure?.(fig.id, i + 1, plan.figures.length);
    const specFile = `${fig.id}.vl.json`;
    const svgFile = `${fig.id}.svg`;
    writeWholeFile(join(outDir, specFile), `${JSON.stringify(fig.spec, null, 2)}\n`);
    writeWholeFile(join(outDir, svgFile), await renderSvg(fig.spec));
    written.push({ id: fig.id, title: fig.title, svg: join(outDir, svgFile), spec: join(outDir, specFile) });
  }
  const runName = input.meta?.runId ?? basename(resolve(input.path));
  const html = renderIndex({
    title: `adamas-bench report: ${runName}`,
    source: input.path,
    meta: input.meta,
    rows: input.rows.length,
    failedJobs: input.failedJobs,
    tables: collectSummary(rows, opts.trialKeys),
    figures: plan.figures.map((f) => ({ ...f, file: `${f.id}.svg`, specFile: `${f.id}.vl.json` })),
    skipped: plan.skipped,
    generatedAt: new Date().toISOString(),
  });
  const index = join(outDir, 'index.html');
  writeWholeFile(index, html);
  return { outDir, index, figures: written, skipped: plan.skipped };
}
