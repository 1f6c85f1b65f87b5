// How a statistic is printed, in the terminal, the HTML report and compare's tables: an estimate
// with its interval and n ("0.64 [0.35, 0.85] n=11"), a signed difference, a p-value. Numbers are
// rounded to what their interval can tell apart (two significant digits of its width), so a bound
// reads 0, never 5.551e-17.

/** A number with its 95 % interval (null where there is none) and the n behind it. */
export interface Estimate {
  value: number;
  lo: number | null;
  hi: number | null;
  n: number;
}

/** 4 significant digits, an exponent only for magnitudes below 1e-3 or from 1e6. */
export function formatValue(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && (Math.abs(x) >= 1e6 || Math.abs(x) < 1e-3)) return x.toExponential(3);
  return String(Number(x.toPrecision(4)));
}

/** Decimals that keep two significant digits of `width`; null when the width is 0 or unknown. */
export function decimalsFor(width: number): number | null {
  if (!(width > 0) || !Number.isFinite(width)) return null;
  return Math.max(0, Math.min(10, 1 - Math.floor(Math.log10(width))));
}

/** `x` rounded to `decimals`, without trailing zeros and without a negative zero. */
export function roundedText(x: number, decimals: number): string {
  const r = Number(x.toFixed(decimals));
  return String(r === 0 ? 0 : r);
}

/** The value and both bounds, rounded alike: by the interval's width, else to 4 significant digits. */
function triple(value: number, lo: number, hi: number): [string, string, string] {
  const d = decimalsFor(hi - lo);
  if (d === null) return [formatValue(value), formatValue(lo), formatValue(hi)];
  return [roundedText(value, d), roundedText(lo, d), roundedText(hi, d)];
}

/** The pieces of an estimate as text: "0.64", "[0.35, 0.85]" (null without an interval), "n=11". */
export function estimateParts(e: Estimate): { value: string; interval: string | null; n: string } {
  const n = `n=${e.n}`;
  if (e.lo === null || e.hi === null) return { value: formatValue(e.value), interval: null, n };
  const [v, lo, hi] = triple(e.value, e.lo, e.hi);
  return { value: v, interval: `[${lo}, ${hi}]`, n };
}

/** "0.64 [0.35, 0.85] n=11"; "12.3 n=1" without an interval. */
export function formatEstimate(e: Estimate): string {
  const p = estimateParts(e);
  return [p.value, ...(p.interval ? [p.interval] : []), p.n].join(' ');
}

/** A signed number: "−0.3", "+0.07"; zero is "±0" as a difference, "0" as a bound. */
function signed(text: string, zero = '±0'): string {
  if (text.startsWith('-')) return `−${text.slice(1)}`;
  return text === '0' ? zero : `+${text}`;
}

/** "−0.3 [−0.45, −0.15]": a difference with its interval, signs always shown. */
export function formatDifference(delta: number, lo: number | null, hi: number | null): string {
  if (lo === null || hi === null || (lo === delta && hi === delta)) return signed(formatValue(delta));
  const [v, l, h] = triple(delta, lo, hi);
  return `${signed(v)} [${signed(l, '0')}, ${signed(h, '0')}]`;
}

/** Two significant digits; an exponent below 1e-4. */
export function formatP(p: number): string {
  return p < 1e-4 ? p.toExponential(1) : String(Number(p.toPrecision(2)));
}
