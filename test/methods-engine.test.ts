// The sparse attention methods inside the engine on the default model (SmolLM2-135M-Instruct,
// 30 layers, 9 query heads on 3 KV heads): a 300-token prompt prefilled once, then the same 40
// tokens decoded with every method at budgets 16 and 64. Checks what the definitions make exact:
// a budget covering the sequence is full attention bit for bit; selection sizes and contents;
// dense layers record nothing; recall lies in [0, 1]; a larger budget selects a superset.
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultThresholds } from '../src/methods/knobs.js';
import { makeSpec, toNativeOptions, type MethodKnobs, type MethodName } from '../src/methods/spec.js';
import { loadAddon, type EngineRecords, type NativeEngine } from '../src/native/addon.js';
import { defaultModelPath, golden } from './helpers/golden.js';

const PROMPT = 300;
const STEPS = 40;
const SKIP = 2; // default skip_layers
const PAGE = 16; // default page size

interface Run {
  logits: Float32Array[];
  rec: EngineRecords;
}

interface Case {
  label: string;
  method: MethodName;
  knobs?: Partial<MethodKnobs>;
}

const cases: Case[] = [
  { label: 'streaming', method: 'streaming' },
  { label: 'quest', method: 'quest' },
  { label: 'adamas', method: 'adamas' },
  { label: 'adamas gqa=kv', method: 'adamas', knobs: { gqa: 'kv' } },
];

/** Tokens a selection of budget b holds at length n. */
function expectedSize(c: Case, b: number, n: number): number {
  const paged = c.method === 'quest' || c.knobs?.granularity === 'page';
  if (!paged) return b;
  const cur = Math.floor((n - 1) / PAGE);
  return (Math.floor(b / PAGE) - 1) * PAGE + (n - cur * PAGE);
}

describe('sparse methods in the engine (SmolLM2-135M-Instruct)', () => {
  let engine: NativeEngine;
  let prompt: number[];
  let next: number[];
  let layers: number;
  let heads: number;
  let full: Run;
  const runs = new Map<string, Run>();

  async function decode(method: MethodName, budget: number | undefined, knobs: Partial<MethodKnobs> = {}): Promise<Run> {
    engine.truncate(PROMPT); // keep the prefilled prompt, drop what the last run decoded
    engine.setAttention(toNativeOptions(makeSpec(method, budget, knobs), { measureRecall: true, recordSelection: true }));
    const logits: Float32Array[] = [];
    for (const id of next) logits.push((await engine.decode(id, { logits: true })).logits);
    return { logits, rec: engine.records({ clear: true }) };
  }

  beforeAll(async () => {
    engine = new (loadAddon().Engine)(await defaultModelPath());
    const text = golden.logits.find((p) => p.name === golden.nll.name)!.ids;
    prompt = text.slice(0, PROMPT);
    next = text.slice(PROMPT, PROMPT + STEPS);
    ({ nLayers: layers, nHeads: heads } = engine.config);
    engine.setAttention({ method: 'full' });
    await engine.prefill(Int32Array.from(prompt));
    full = await decode('full', undefined);
    for (const c of cases) for (const b of [16, 64]) runs.set(`${c.label}@${b}`, await decode(c.method, b, c.knobs));
  });

  it('decodes the prompt tail with every method and budget, with finite logits', () => {
    expect(next).toHaveLength(STEPS);
    for (const [label, run] of runs) {
      expect(run.logits, label).toHaveLength(STEPS);
      expect(run.logits.every((l) => l.every(Number.isFinite)), label).toBe(true);
      expect(Array.from(run.rec.positions), label).toEqual(next.map((_, i) => PROMPT + i));
    }
  });

  it('is full attention, bit for bit, when the budget covers the whole sequence', async () => {
    const bytes = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
    for (const c of cases) {
      const run = await decode(c.method, PROMPT + STEPS, c.knobs);
      const differ = run.logits.map((l, i) => i).filter((i) => !bytes(run.logits[i]).equals(bytes(full.logits[i])));
      expect(differ, `${c.label}: steps whose logits differ from full attention`).toEqual([]);
      expect(Array.from(run.rec.recall!).every(Number.isNaN), c.label).toBe(true);
      expect(run.rec.selected!.every((step) => step.every((s) => s.length === 0)), c.label).toBe(true);
    }
  });

  it('selects as many tokens as the budget allows, current token included, positions ascending', () => {
    const problems: string[] = [];
    for (const c of cases)
      for (const b of [16, 64]) {
        const { rec } = runs.get(`${c.label}@${b}`)!;
        const group = heads / engine.config.nKvHeads;
        rec.selected!.forEach((step, s) => {
          const n = rec.positions[s] + 1;
          for (let l = 0; l < layers; l++)
            for (let h = 0; h < heads; h++) {
              const sel = step[l * heads + h];
              const report = (why: string) => problems.push(`${c.label}@${b} step ${s} layer ${l} head ${h}: ${why}`);
              if (l < SKIP) {
                if (sel.length !== 0) report('a dense layer has a selection');
                continue;
              }
              if (sel.length !== expectedSize(c, b, n)) report(`${sel.length} tokens, expected ${expectedSize(c, b, n)}`);
              if (sel[sel.length - 1] !== n - 1) report('the current token is missing');
              if (!sel.every((p, i) => p >= 0 && p < n && (i === 0 || p > sel[i - 1]))) report('not ascending in [0, n)');
              if (c.method === 'streaming') {
                const sink = Math.min(4, b - 1);
                if (!sel.every((p, i) => p === (i < sink ? i : n - (b - i)))) report('not sink + recent window');
              }
              if (c.knobs?.gqa === 'kv') {
                const first = step[l * heads + h - (h % group)];
                if (first.length !== sel.length || !sel.every((p, i) => p === first[i])) report('differs within its KV group');
              }
            }
        });
      }
    expect(problems.slice(0, 10)).toEqual([]);
  });

  it('records recall in [0, 1] on sparse layers and NaN on the dense ones', () => {
    for (const [label, { rec }] of runs) {
      const r = rec.recall!;
      expect(r.length, label).toBe(STEPS * layers * heads);
      const bad: number[] = [];
      for (let i = 0; i < r.length; i++) {
        const dense = Math.floor(i / heads) % layers < SKIP;
        if (dense ? !Number.isNaN(r[i]) : !(r[i] >= 0 && r[i] <= 1 + 1e-5)) bad.push(i);
      }
      expect(bad.slice(0, 10), `${label}: [step][layer][head] entries out of place`).toEqual([]);
    }
  });

  it('selects a superset with a larger budget where both see the same queries and keys', () => {
    // At the first decode step the first sparse layer has the same inputs whatever the budget,
    // and each method's choice is a top-k under one total order, so the sets are nested.
    for (const c of cases) {
      const small = runs.get(`${c.label}@16`)!.rec;
      const large = runs.get(`${c.label}@64`)!.rec;
      for (let h = 0; h < heads; h++) {
        const i = SKIP * heads + h;
        const big = new Set(large.selected![0][i]);
        expect(Array.from(small.selected![0][i]).every((p) => big.has(p)), `${c.label} head ${h}`).toBe(true);
        expect(small.recall![i], `${c.label} head ${h}`).toBeLessThanOrEqual(large.recall![i] + 1e-6);
      }
    }
  });

  it("takes the knob table's default thresholds for every width of code, and other thresholds change the selection", async () => {
    // --threshold-jitter moves these defaults in TypeScript: they must be the engine's own (the
    // source text is compared in methods-knobs.test.ts; here the engine's behaviour)
    const same = (a: EngineRecords, b: EngineRecords) => a.selected!.every((step, s) => step.every((sel, i) =>
      sel.length === b.selected![s][i].length && sel.every((p, j) => p === b.selected![s][i][j])));
    for (const bits of [1, 2, 3] as const) {
      const implicit = bits === 2 ? runs.get('adamas@16')! : await decode('adamas', 16, { bits });
      const explicit = await decode('adamas', 16, { bits, thresholds: defaultThresholds(bits) });
      expect(same(implicit.rec, explicit.rec), `bits ${bits}`).toBe(true);
      const moved = await decode('adamas', 16, { bits, thresholds: defaultThresholds(bits).map((t) => t + 3) });
      expect(same(implicit.rec, moved.rec), `bits ${bits}, thresholds moved by 3`).toBe(false);
    }
    expect(() => defaultThresholds(4)).toThrow('bits must be 1, 2 or 3 (got 4)');
  });

  it('selects differently from the streaming window when the method looks at the keys', () => {
    // quest and adamas rank by content: at budget 64 some head must keep a token outside the
    // sink + recent window, or the methods would be streaming in disguise
    for (const label of ['quest@64', 'adamas@64']) {
      const sel = runs.get(label)!.rec.selected![0];
      const n = PROMPT + 1;
      const outside = sel.some((s) => Array.from(s).some((p) => p >= 4 && p < n - 64));
      expect(outside, label).toBe(true);
    }
  });
});
