// agree in the terminal: one table per part (accuracy with the paired test and its verdict,
// perplexity ratios, selections agreed on, replayed logits), the full/streaming cases whose
// answers differ with the margins where the tokens part, and the verdict.
import { formatEstimate, formatP } from '../stats/format.js';
import type { AgreementResult, Cell } from '../stats/agreement.js';
import { formatNumber, formatTable } from './terminal.js';

export interface AgreeSideInfo {
  dir: string;
  /** e.g. 'cuda (NVIDIA H200)' */
  device: string;
}

const cellCells = (c: Cell) => [c.dataset ? `${c.task}/${c.dataset}` : c.task, c.label, String(c.contextLen ?? '')];
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export function formatAgreement(r: AgreementResult, a: AgreeSideInfo, b: AgreeSideInfo): string {
  const o = r.options;
  const out: string[] = [`a: ${a.dir}: ${a.device}`, `b: ${b.dir}: ${b.device}`, `${r.pairedJobs} jobs in both runs`, ''];
  if (r.accuracy.length) {
    out.push(`accuracy: the cases paired, exact McNemar (sign test for scores), Holm over ${r.accuracy.filter((c) => c.pHolm !== null).length} cells at ${o.alpha}`);
    out.push(formatTable(['task', 'method', 'length', 'a', 'b', 'pairs', 'a only / b only', 'p (Holm)', 'verdict'],
      r.accuracy.map((c) => [...cellCells(c), formatEstimate(c.a), formatEstimate(c.b), String(c.paired?.pairs ?? 0),
        c.paired ? `${c.paired.lower} / ${c.paired.higher}` : '-', c.pHolm === null ? '-' : formatP(c.pHolm), c.verdict]), 3));
    out.push('');
  }
  if (r.parted.length) {
    out.push('full / streaming cases whose answers differ (top-1 margin of each run where the tokens part):');
    for (const p of r.parted) {
      const where = `${p.task} ${p.label} len=${p.contextLen ?? ''}${p.depth !== null ? ` depth=${p.depth}` : ''} ${p.case}`.trim();
      const part = p.step === null ? p.note ?? ''
        : `tokens part at step ${p.step} (position ${p.position}): a chose ${p.chosenA} (margin ${formatNumber(p.marginA!)}), b chose ${p.chosenB} (margin ${formatNumber(p.marginB!)})`;
      out.push(`  ${where}: a ${JSON.stringify(p.answerA)}, b ${JSON.stringify(p.answerB)}; ${part}`);
    }
    out.push('');
  }
  if (r.perplexity.length) {
    out.push(`perplexity: b / a, band ±${pct(o.pplBand)}; beside it the windows' mean NLL paired (the ratio's 95% interval, the sign test)`);
    out.push(formatTable(['task', 'method', 'length', 'a', 'b', 'b / a', 'windows', 'b / a over the windows', 'p (lower / higher)', 'verdict'],
      r.perplexity.map((c) => [...cellCells(c), formatEstimate(c.a), formatEstimate(c.b), formatNumber(c.ratio),
        String(c.windows?.windows ?? '-'),
        c.windows?.ratioCi ? `[${c.windows.ratioCi.map((x) => x.toFixed(4)).join(', ')}]` : '-',
        c.windows ? `${formatP(c.windows.p)} (${c.windows.lower} / ${c.windows.higher})` : '-', c.verdict]), 3));
    out.push('');
  }
  if (r.selections.length) {
    out.push('selections the runs agree on (each step, layer and head where both attended sparsely):');
    out.push(formatTable(['task', 'method', 'length', 'jobs', 'lists', 'mean Jaccard', 'identical sets'],
      r.selections.map((c) => [...cellCells(c), String(c.jobs), String(c.lists), formatNumber(c.jaccard), pct(c.exact)]), 3));
    out.push('');
  }
  if (r.replays.length) {
    out.push(`replayed selections: the largest |logit difference| of each decode step, tolerance ${o.logitTolerance}`);
    out.push(formatTable(['task', 'method', 'length', 'replayed by', 'jobs', 'steps', 'max', 'mean', 'over', 'verdict'],
      r.replays.map((c) => [...cellCells(c), c.replayed, String(c.jobs), String(c.steps), formatNumber(c.max), formatNumber(c.mean), c.over, c.verdict]), 3));
    out.push('');
  }
  for (const w of r.warnings) out.push(`warning: ${w}`);
  out.push(r.differences === 0 ? 'verdict: the runs agree (every cell within its band)' : `verdict: ${r.differences} cell(s) differ beyond their band`);
  return `${out.join('\n')}\n`;
}
