// Printers of a comparison: a Markdown summary (like pyperf compare_to / criterion) and a tidy CSV
// with every number behind each verdict. Accuracy values carry their n and 95 % interval, paired
// changes the interval of the mean difference, paired p-values their Holm adjustment.
import { stringify } from 'csv-stringify/sync';
import type { CompareResult, Comparison } from '../stats/compare.js';
import { verdicts } from '../stats/compare.js';
import { formatDifference, formatEstimate, formatP, formatValue } from '../stats/format.js';
import type { RegressionConfig } from '../stats/thresholds.js';

export interface CompareHeader {
  baseline: string;
  current: string;
  config: RegressionConfig;
  configSource: string;
}

function signed(x: number, digits: number): string {
  return `${x > 0 ? '+' : x < 0 ? '−' : '±'}${Math.abs(x).toFixed(digits)}`;
}

/**
 * "+3.2%" for a timing; "−0.3 [−0.45, −0.15]" for a paired accuracy metric (the interval of the
 * mean difference of the pairs); "−0.1 (−12.5%)" for one judged by its tolerance.
 */
export function changeText(c: Comparison): string {
  if (c.delta === null) return '';
  const rel = c.change === null ? '' : `${signed(100 * c.change, 1)}%`;
  if (c.kind === 'timing') return rel || signed(c.delta, 3);
  if (c.deltaCi) return formatDifference(c.delta, c.deltaCi.lo, c.deltaCi.hi);
  const abs = signed(c.delta, Math.abs(c.delta) >= 1 ? 2 : 4);
  return rel ? `${abs} (${rel})` : abs;
}

export function measurementText(c: Comparison): string {
  const parts = [`${c.task}${c.dataset ? `/${c.dataset}` : ''}`, c.label];
  if (c.contextLen !== null) parts.push(`len=${c.contextLen}`);
  if (c.depth !== null) parts.push(`depth=${c.depth}`);
  if (c.case) parts.push(c.case);
  return parts.join(' ');
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

/** An accuracy value with its interval and n; a timing's centre with its unit and sample count. */
function valueText(c: Comparison, side: 'baseline' | 'current'): string {
  const v = c[side];
  if (v === null) return '—';
  const n = side === 'baseline' ? c.nBaseline : c.nCurrent;
  if (c.kind === 'timing') return `${formatValue(v)}${c.unit ? ` ${c.unit}` : ''}`;
  const ci = side === 'baseline' ? c.ciBaseline : c.ciCurrent;
  return `${formatEstimate({ value: v, lo: ci?.lo ?? null, hi: ci?.hi ?? null, n })}${c.unit ? ` ${c.unit}` : ''}`;
}

function pText(c: Comparison): string {
  if (c.p === null) return '';
  if (c.pAdjusted === null || c.pAdjusted === c.p) return formatP(c.p);
  return `${formatP(c.p)} (Holm ${formatP(c.pAdjusted)})`;
}

export function summaryLine(r: CompareResult): string {
  return verdicts.map((v) => `${r.counts[v]} ${v}`).join(', ');
}

export function formatMarkdown(r: CompareResult, h: CompareHeader, opts: { onlyChanged?: boolean } = {}): string {
  const c = h.config;
  const testName = c.test === 'welch' ? "Welch's t" : 'Mann–Whitney U';
  const lines = [
    `## adamas-bench compare`,
    '',
    `Baseline \`${h.baseline}\` → current \`${h.current}\`: **${r.regressions ? `${r.regressions} failing` : 'no regression'}** (${summaryLine(r)}).`,
    '',
    `Timings: ${testName} at alpha ${c.alpha} and a change above ${Number((100 * c.min_effect).toPrecision(6))}% (${c.test === 'welch' ? 'means' : 'medians'}).`,
    '',
    `Accuracy metrics (depths pooled; each value with its 95% interval and n): the trials of both runs paired on their case and tested, ` +
      `exact McNemar for pass/fail and the sign test for scores, Holm-adjusted over the ${r.pairedTests} tested measurement(s) at alpha ${c.accuracy_alpha}; ` +
      `the change is the mean paired difference with its bootstrap interval. The tolerances fail a run beside the test only for the same inputs on the CPU, ` +
      `and alone where rows cannot be paired.`,
    '',
    `Thresholds from ${h.configSource}.`,
    '',
  ];
  const shown = opts.onlyChanged ? r.comparisons.filter((x) => x.verdict !== 'same') : r.comparisons;
  if (shown.length === 0) {
    lines.push(opts.onlyChanged ? 'Nothing changed.' : 'No measurements to compare.');
    return `${lines.join('\n')}\n`;
  }
  lines.push('| measurement | metric | baseline | current | change | p-value | verdict |');
  lines.push('|---|---|--:|--:|--:|--:|---|');
  const notes: string[] = [];
  for (const x of shown) {
    const verdict = x.failing ? `**${x.verdict.toUpperCase()}**` : x.verdict;
    const mark = x.note && x.verdict !== 'missing' && x.verdict !== 'new' ? ` [${notes.push(`${measurementText(x)} ${x.metric}: ${x.note}`)}]` : '';
    lines.push(
      `| ${cell(measurementText(x))} | ${cell(x.metric)} | ${valueText(x, 'baseline')} | ${valueText(x, 'current')} | ` +
        `${changeText(x)} | ${pText(x)} | ${verdict}${mark} |`,
    );
  }
  if (notes.length) lines.push('', ...notes.map((n, i) => `[${i + 1}] ${n}`));
  if (r.warnings.length) lines.push('', ...r.warnings.map((w) => `Warning: ${w}`));
  return `${lines.join('\n')}\n`;
}

export const compareCsvColumns = [
  'task', 'dataset', 'model', 'method', 'label', 'budget', 'context_len', 'depth', 'case', 'metric', 'unit', 'kind', 'direction',
  'baseline', 'baseline_lo', 'baseline_hi', 'current', 'current_lo', 'current_hi', 'delta', 'delta_lo', 'delta_hi', 'change',
  'p_value', 'p_adjusted', 'test', 'n_baseline', 'n_current', 'pairs', 'same_inputs', 'noise_baseline', 'noise_current',
  'threshold', 'verdict', 'failing', 'note',
] as const;

const num = (v: number | null | undefined): string => (v === null || v === undefined ? '' : String(v));

export function formatCsv(r: CompareResult): string {
  const records = r.comparisons.map((c) => [
    c.task, c.dataset, c.model, c.method, c.label, num(c.budget), num(c.contextLen), num(c.depth), c.case, c.metric, c.unit,
    c.kind, c.direction, num(c.baseline), num(c.ciBaseline?.lo), num(c.ciBaseline?.hi), num(c.current), num(c.ciCurrent?.lo),
    num(c.ciCurrent?.hi), num(c.delta), num(c.deltaCi?.lo), num(c.deltaCi?.hi), num(c.change), num(c.p), num(c.pAdjusted),
    c.test ?? '', String(c.nBaseline), String(c.nCurrent), String(c.pairs), c.sameInputs ? 'true' : 'false',
    num(c.noiseBaseline), num(c.noiseCurrent), num(c.threshold), c.verdict, c.failing ? 'true' : 'false', c.note,
  ]);
  return stringify(records, { header: true, columns: [...compareCsvColumns] });
}
