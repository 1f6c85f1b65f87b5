// The selftest in the terminal: the layer checks summed up per backend, check and method (cases,
// the worst value, the tolerance, how many passed), every failing row in full, then the engine
// checks one a row, and what did not run and why.
import type { SelftestRow } from '../native/addon.js';
import type { SelftestReport } from '../selftest/selftest.js';
import { formatNumber, formatTable } from './terminal.js';

const shownFailures = 20;

function value(v: number): string {
  return Number.isFinite(v) ? formatNumber(v) : 'non-finite';
}

/** One line per (backend, against, check, method name): the layer rows summed up. */
function layerSummary(rows: readonly SelftestRow[]): string[][] {
  const groups = new Map<string, SelftestRow[]>();
  for (const r of rows) {
    const key = [r.backend, r.against, r.check, r.method.split(/[@ ]/, 1)[0]].join('\u241f');
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups].map(([key, rs]) => {
    const [backend, against, check, method] = key.split('\u241f');
    const passed = rs.filter((r) => r.pass).length;
    const worst = rs.reduce((w, r) => (Number.isNaN(w) || !(r.value <= w) ? r.value : w), 0);
    return [backend, against, check, method, String(rs.length), value(worst), rs[0].tolerance,
      passed === rs.length ? 'pass' : `FAIL (${rs.length - passed})`];
  });
}

function failureLines(rows: readonly SelftestRow[]): string[] {
  const failed = rows.filter((r) => !r.pass);
  const lines = failed.slice(0, shownFailures).map((r) =>
    `  FAIL ${r.backend} ${r.check}, ${[r.method, r.shape].filter(Boolean).join(', ')}: ${value(r.value)} (${r.tolerance})${r.note ? `: ${r.note}` : ''}`);
  if (failed.length > shownFailures) lines.push(`  ... and ${failed.length - shownFailures} more (--json lists every row)`);
  return lines;
}

export function formatSelftest(r: SelftestReport): string {
  const out: string[] = [];
  const where = r.cuda.run ? `CPU and CUDA (${r.cuda.device ?? 'device'})` : 'CPU only';
  out.push(`layer attention: ${r.layers.rows.length} checks on ${where}, seed ${r.seed} (${r.layers.seconds.toFixed(1)} s); rerun with --seed ${r.seed}`);
  out.push(formatTable(['backend', 'against', 'check', 'method', 'cases', 'worst', 'tolerance', 'result'], layerSummary(r.layers.rows), 4));
  out.push(...failureLines(r.layers.rows));
  out.push('');
  if (r.engine.rows.length) {
    out.push(`engine on the default model${r.engine.model ? ` (${r.engine.model})` : ''}, ${r.engine.seconds.toFixed(1)} s:`);
    out.push(formatTable(['backend', 'against', 'check', 'prompt', 'value', 'tolerance', 'result'],
      r.engine.rows.map((x) => [x.backend, x.against, x.check, x.shape, value(x.value), x.tolerance, x.pass ? 'pass' : 'FAIL']), 4));
    out.push(...failureLines(r.engine.rows));
  }
  if (!r.engine.run) out.push(`engine checks not run: ${r.engine.reason}`);
  if (!r.cuda.run) out.push(`CUDA checks not run: ${r.cuda.reason}`);
  else if (r.cuda.reason) out.push(`CUDA checks: ${r.cuda.reason}`);
  out.push(r.failures === 0 ? 'selftest passed' : `selftest FAILED: ${r.failures} check(s) beyond their tolerance`);
  return `${out.join('\n')}\n`;
}
