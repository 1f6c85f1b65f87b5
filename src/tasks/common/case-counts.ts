// How many cases the accuracy tasks (passkey, ruler, longbench) plan by default on a GPU: enough
// that the accuracy of one cell of the summary (a method at one length, for one data set) has a
// 95% interval of about ±0.1 — the Wilson interval's expected half-width at accuracy 0.5, the
// widest case (src/stats/planning.ts); a score on 0..100 varies at most as much, ±10 points. The
// CPU defaults stay small so that the README's main job takes a few minutes on two cores.
import { trialsForHalfWidth } from '../../stats/planning.js';

/** The half-width the GPU defaults are sized for. */
export const gpuHalfWidth = 0.1;

/** Cases per cell for the GPU defaults (92). */
export function gpuCasesPerCell(): number {
  return trialsForHalfWidth(gpuHalfWidth);
}

/** Trials per setting when a cell pools `settings` settings (passkey: its depths). */
export function gpuTrialsPerSetting(settings: number): number {
  return Math.ceil(gpuCasesPerCell() / settings);
}
