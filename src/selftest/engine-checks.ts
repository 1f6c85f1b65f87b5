// The engine part of the selftest, on the default model and its golden prompts:
//   cpu  against transformers (the golden fixture): the top-20 logits at the last position of each
//        prompt within 1e-3, and the greedy tokens of the two greedy prompts equal for 16 steps;
//   cuda against the CPU engine: every logit at the last position within 5e-2, and the greedy
//        tokens (full attention) equal for 16 steps. 5e-2: fp16 weights (Q4_1 blocks dequantised
//        to fp16 round where the CPU's float32 do not) and the prefill's fp16 inputs of its
//        products; measured on an H200: 2.1e-2, 2.9e-2 and 3.0e-2 on the three prompts, greedy
//        tokens equal. The same with f32 weights (the CPU's weights exactly, so what is left is
//        the fp16 KV cache and the prefill attention's fp16 inputs) within 2e-2.
// Engines come from a factory, so that the CUDA path runs against stand-ins in the tests.
import { argmax } from '../model/greedy.js';
import type { NativeEngine, SelftestRow } from '../native/addon.js';
import type { GoldenFixture } from './golden.js';

export type EngineFactory = (device: 'cpu' | 'cuda', weightType?: 'f16' | 'f32') => NativeEngine;

export const engineTolerance = { golden: 1e-3, cuda: 5e-2, cudaF32: 2e-2 } as const;
export const greedySteps = 16;

const fromGolden = 'transformers (golden)';
const fromCpu = 'cpu engine';

interface Greedy {
  tokens: number[];
  /** top-1 minus top-2 logit of the step that chose each token. */
  margins: number[];
}

function margin(logits: Float32Array): number {
  let a = -Infinity;
  let b = -Infinity;
  for (const v of logits) {
    if (v > a) [a, b] = [v, a];
    else if (v > b) b = v;
  }
  return a - b;
}

async function lastLogits(engine: NativeEngine, ids: readonly number[]): Promise<Float32Array> {
  engine.reset();
  engine.setAttention({ method: 'full' });
  return (await engine.prefill(Int32Array.from(ids), { logits: true })).logits;
}

async function greedy(engine: NativeEngine, ids: readonly number[], steps: number): Promise<Greedy> {
  let logits = await lastLogits(engine, ids);
  const out: Greedy = { tokens: [], margins: [] };
  for (let i = 0; i < steps; i++) {
    const token = argmax(logits);
    out.tokens.push(token);
    out.margins.push(margin(logits));
    if (i + 1 < steps) logits = (await engine.decode(token, { logits: true })).logits;
  }
  return out;
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    worst = Number.isNaN(d) ? Infinity : Math.max(worst, d);
  }
  return worst;
}

function tokenRow(backend: string, against: string, shape: string, got: Greedy, want: readonly number[], wantMargins: readonly number[]): SelftestRow {
  const differ = want.filter((t, i) => got.tokens[i] !== t).length;
  const first = want.findIndex((t, i) => got.tokens[i] !== t);
  const smallest = Math.min(...wantMargins);
  return {
    backend, against, check: `greedy tokens (${want.length} steps)`, shape, method: 'full',
    value: differ, tolerance: '0 tokens differ', pass: differ === 0,
    note: first < 0
      ? `smallest top-1 margin of the reference: ${smallest.toPrecision(3)}`
      : `step ${first}: token ${got.tokens[first]} against ${want[first]} (the reference's top-1 margin there: ${wantMargins[first].toPrecision(3)})`,
  };
}

function logitsRow(backend: string, against: string, check: string, shape: string, value: number, tol: number): SelftestRow {
  return { backend, against, check, shape, method: 'full', value, tolerance: `|d| <= ${tol}`, pass: value <= tol };
}

const shapeOf = (name: string, ids: readonly number[]) => `prompt '${name}' (${ids.length} tokens)`;

/** The rows of the engine checks; the CUDA ones only when `cuda`. An engine that cannot be made is
 *  a failing row with the reason. */
export async function engineChecks(make: EngineFactory, golden: GoldenFixture, opts: { cuda: boolean }): Promise<SelftestRow[]> {
  const rows: SelftestRow[] = [];
  const cpu = make('cpu');
  const cpuLogits = new Map<string, Float32Array>();
  for (const p of golden.logits) {
    const logits = await lastLogits(cpu, p.ids);
    cpuLogits.set(p.name, logits);
    const worst = Math.max(...p.top20.map(([id, want]) => Math.abs(logits[id] - want)));
    rows.push(logitsRow('cpu', fromGolden, 'logits at the last position (top 20)', shapeOf(p.name, p.ids), Number.isNaN(worst) ? Infinity : worst, engineTolerance.golden));
  }
  const cpuGreedy = new Map<string, Greedy>();
  for (const g of golden.greedy) {
    const got = await greedy(cpu, g.run.ids, greedySteps);
    cpuGreedy.set(g.name, got);
    rows.push(tokenRow('cpu', fromGolden, shapeOf(g.name, g.run.ids), got, g.run.continuation.slice(0, greedySteps), g.run.margins.slice(0, greedySteps)));
  }
  if (!opts.cuda) return rows;

  const open = (weightType: 'f16' | 'f32'): NativeEngine | undefined => {
    try {
      return make('cuda', weightType);
    } catch (err) {
      rows.push({ backend: 'cuda', against: fromCpu, check: 'engine', shape: '', method: 'full', value: Infinity, tolerance: 'loads', pass: false,
        note: `the CUDA engine (${weightType} weights) could not be made: ${(err as Error).message}` });
      return undefined;
    }
  };
  const cuda = open('f16');
  if (!cuda) return rows;
  for (const p of golden.logits) {
    const logits = await lastLogits(cuda, p.ids);
    rows.push(logitsRow('cuda', fromCpu, 'logits at the last position (all)', shapeOf(p.name, p.ids), maxAbs(logits, cpuLogits.get(p.name)!), engineTolerance.cuda));
  }
  for (const g of golden.greedy) {
    const want = cpuGreedy.get(g.name)!;
    rows.push(tokenRow('cuda', fromCpu, shapeOf(g.name, g.run.ids), await greedy(cuda, g.run.ids, greedySteps), want.tokens, want.margins));
  }
  const exact = open('f32');
  if (!exact) return rows;
  for (const p of golden.logits) {
    const logits = await lastLogits(exact, p.ids);
    rows.push(logitsRow('cuda', fromCpu, 'logits at the last position (all), f32 weights', shapeOf(p.name, p.ids), maxAbs(logits, cpuLogits.get(p.name)!), engineTolerance.cudaF32));
  }
  return rows;
}
