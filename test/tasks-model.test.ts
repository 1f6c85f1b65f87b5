// Every task end to end with the real default model (SmolLM2-135M-Instruct, cached; honours
// ADAMAS_BENCH_CACHE): plan one tiny case, run it with full attention and with adamas@64 through a
// PrefixSession (the second method reuses the first one's dense prefill), and check the
// measurements. Passkey at 1024 tokens must be retrieved with full attention. With a threshold
// jitter, a case is decoded at +E, -E and as given on one prefill.
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeSpec, type MethodSpec } from '../src/methods/spec.js';
import { loadModel, type LoadedModel } from '../src/model/model.js';
import type { Job, Measurement } from '../src/core/job.js';
import { longBenchTask } from '../src/tasks/longbench/index.js';
import { passkeyTask } from '../src/tasks/passkey/index.js';
import { pplTask } from '../src/tasks/ppl/index.js';
import { rulerTask } from '../src/tasks/ruler/index.js';
import type { RunContext, TaskModule } from '../src/tasks/types.js';
import { PrefixSession } from '../src/worker/session.js';
import { defaultModelPath } from './helpers/golden.js';

const fixtures = fileURLToPath(new URL('./fixtures/tasks/', import.meta.url));

let model: LoadedModel;
let ctx: RunContext;

beforeAll(async () => {
  model = await loadModel(await defaultModelPath(), { threads: 2 });
  const session = new PrefixSession(model.engine);
  ctx = { model, dataDir: fixtures, device: 'cpu', preparePrefix: session.prepare, log: () => {}, recordFacts: () => {} };
  model.engine.setAttention({ method: 'full' });
});

const full = makeSpec('full', undefined);
const adamas64 = makeSpec('adamas', 64);

async function runAll<O>(task: TaskModule<O>, options: O, method: MethodSpec): Promise<{ job: Job; ms: Measurement[] }[]> {
  const planned = task.plan(options, method, { device: 'cpu', dataDir: fixtures, modelContextLength: model.config.contextLength, seed: 42 });
  const out = [];
  for (const p of planned) {
    const job: Job = { ...p, id: `test-${p.prefixKey}`, suite: 'test', model: 'default', method };
    out.push({ job, ms: await task.run(job, ctx) });
  }
  return out;
}

function wellFormed(ms: Measurement[], main: string): Measurement {
  for (const m of ms) {
    expect(typeof m.metric).toBe('string');
    expect(Number.isFinite(m.value)).toBe(true);
    expect(typeof m.unit).toBe('string');
    expect(m.n).toBeGreaterThanOrEqual(1);
  }
  const names = ms.map((m) => m.metric);
  expect(names).toContain('decode_ms_per_token');
  expect(names).toContain('decode_tokens_per_s');
  const m = ms.find((x) => x.metric === main);
  expect(m).toBeDefined();
  return m!;
}

describe('tasks with the real model', () => {
  it('passkey at 1024 tokens: full attention retrieves the key; adamas@64 reuses the prefill', async () => {
    const opts = { lengths: [1024], depths: [50], trials: 1, tailChars: 400, maxNewTokens: 10 };
    const [dense] = await runAll(passkeyTask, opts, full);
    const acc = wellFormed(dense!.ms, 'accuracy');
    const detail = JSON.parse(acc.detail!);
    expect(detail.promptTokens).toBeGreaterThanOrEqual(1022);
    expect(detail.promptTokens).toBeLessThanOrEqual(1024);
    expect(acc.value, `answer ${JSON.stringify(detail.answer)} for key ${detail.key}`).toBe(1);
    expect(dense!.ms.map((m) => m.metric)).toContain('prefill_s');
    const [sp] = await runAll(passkeyTask, opts, adamas64);
    expect(sp!.job.prefixKey).toBe(dense!.job.prefixKey);
    const a = wellFormed(sp!.ms, 'accuracy');
    const sparseDetail = JSON.parse(a.detail!);
    expect(sparseDetail.key).toBe(detail.key); // the same case
    expect(a.value).toBe(String(sparseDetail.found ?? '') === String(sparseDetail.key) ? 1 : 0);
    expect(sp!.ms.map((m) => m.metric)).not.toContain('prefill_s'); // the dense prefill was reused
  });

  it('ppl, prefix protocol: a finite perplexity over the decoded tokens, dense prefix apart', async () => {
    const opts = { source: 'default', book: 0, lengths: [160], protocol: 'prefix' as const, prefixLength: 128 };
    for (const method of [full, adamas64]) {
      const [r] = await runAll(pplTask, opts, method);
      const ppl = wellFormed(r!.ms, 'ppl');
      expect(ppl.n).toBe(32);
      expect(ppl.value).toBeGreaterThan(1);
      expect(ppl.value).toBeLessThan(1000);
      expect(JSON.parse(ppl.detail!).nllWindows).toHaveLength(1);
      const byName = Object.fromEntries(r!.ms.map((m) => [m.metric, m]));
      expect(Math.exp(byName.mean_nll!.value)).toBeCloseTo(ppl.value, 9);
      expect(byName.prefix_ppl!.n).toBe(127);
    }
  });

  it("ppl, token-by-token (the seed's protocol): sparsity from the first step past the budget", async () => {
    const opts = { source: 'default', book: 0, lengths: [32], protocol: 'token-by-token' as const, prefixLength: 'auto' as const };
    const [dense] = await runAll(pplTask, opts, full);
    const d = wellFormed(dense!.ms, 'ppl');
    expect(d.n).toBe(32);
    // budget 16 < 32 tokens: the method changes the attention of the later steps
    const [sp] = await runAll(pplTask, opts, makeSpec('adamas', 16));
    const s = wellFormed(sp!.ms, 'ppl');
    expect(s.n).toBe(32);
    expect(s.value).not.toBe(d.value);
  });

  it('longbench on a fixture sample: a score in [0, 100] and the prediction', async () => {
    const opts = { datasets: ['qasper' as const], lengths: [512], samples: 1, chatTemplate: true, maxNewTokens: 8 };
    for (const method of [full, adamas64]) {
      const [r] = await runAll(longBenchTask, opts, method);
      const score = wellFormed(r!.ms, 'score');
      expect(score.value).toBeGreaterThanOrEqual(0);
      expect(score.value).toBeLessThanOrEqual(100);
      const detail = JSON.parse(score.detail!);
      expect(typeof detail.prediction).toBe('string');
      expect(detail.chat).toBe(true);
      expect(detail.metric).toBe('qa_f1_score');
    }
  });

  it('ruler niah_single at 384 tokens: a string-match score and the prediction', async () => {
    const opts = { subtasks: ['niah_single' as const], lengths: [384], samples: 1, chatTemplate: true, maxNewTokens: 8 };
    for (const method of [full, adamas64]) {
      const [r] = await runAll(rulerTask, opts, method);
      const score = wellFormed(r!.ms, 'score');
      expect([0, 100]).toContain(score.value);
      const detail = JSON.parse(score.detail!);
      expect(detail.promptTokens + 8).toBeLessThanOrEqual(384);
      expect(detail.outputs[0]).toMatch(/^\d{7}$/);
    }
  });
});

describe('threshold jitter with the real model', () => {
  /** ctx, recording the thresholds each decode asked for and whether its prefill was reused. */
  function recording(): { ctx: RunContext; calls: { thresholds: unknown; reused: boolean }[] } {
    const calls: { thresholds: unknown; reused: boolean }[] = [];
    return {
      calls,
      ctx: {
        ...ctx,
        preparePrefix: async (key, tokens, method, o) => {
          const r = await ctx.preparePrefix(key, tokens, method, o);
          calls.push({ thresholds: method.thresholds, reused: r.reused });
          return r;
        },
      },
    };
  }

  async function runOne<O>(task: TaskModule<O>, options: O, c: RunContext): Promise<Measurement[]> {
    const [p] = task.plan(options, adamas64, { device: 'cpu', dataDir: fixtures, modelContextLength: model.config.contextLength, seed: 42 });
    return task.run({ ...p, id: `test-${p.prefixKey}`, suite: 'test', model: 'default', method: adamas64 }, c);
  }

  it('passkey: +E, -E, then as given on one prefill; the unperturbed run is the plain one', async () => {
    const e = 1e-5;
    // a case no earlier test prefilled
    const opts = { lengths: [384], depths: [30], trials: 1, tailChars: 400, maxNewTokens: 10 };
    const { ctx: rec, calls } = recording();
    const ms = await runOne(passkeyTask, { ...opts, thresholdJitter: e }, rec);
    expect(calls).toEqual([
      { thresholds: [-10 + e, e, 10 + e], reused: false },
      { thresholds: [-10 - e, -e, 10 - e], reused: true },
      { thresholds: undefined, reused: true },
    ]);
    const byName = Object.fromEntries(ms.map((m) => [m.metric, m]));
    expect(Object.keys(byName)).toEqual(expect.arrayContaining(['accuracy', 'stability', 'accuracy.threshold_plus', 'accuracy.threshold_minus', 'prefill_s']));
    const jitter = JSON.parse(byName.stability!.detail!);
    const { answer, found } = JSON.parse(byName.accuracy!.detail!);
    expect(jitter.e).toBe(e);
    // the answer is what the score reads: the first integer of the text
    expect(jitter.answer).toBe(String(found ?? ''));
    expect(typeof jitter.plusText).toBe('string');
    expect(byName.stability!.value).toBe(jitter.plus === jitter.answer && jitter.minus === jitter.answer ? 1 : 0);
    // each jittered accuracy scores its own answer
    const key = String(JSON.parse(byName.accuracy!.detail!).key);
    expect(byName['accuracy.threshold_plus']!.value).toBe(jitter.plus === key ? 1 : 0);
    expect(byName['accuracy.threshold_minus']!.value).toBe(jitter.minus === key ? 1 : 0);
    // the same case without the jitter gives the same answer (its prefill reused)
    const plain = await runOne(passkeyTask, opts, ctx);
    const plainAcc = plain.find((m) => m.metric === 'accuracy')!;
    expect(JSON.parse(plainAcc.detail!).answer).toBe(answer);
    expect(plainAcc.value).toBe(byName.accuracy!.value);
    expect(plain.map((m) => m.metric)).not.toContain('stability');
  });

  it('ruler: the score at +E and -E beside the score', async () => {
    const opts = { subtasks: ['niah_single' as const], lengths: [320], samples: 1, chatTemplate: true, maxNewTokens: 8, thresholdJitter: 0.5 };
    const { ctx: rec, calls } = recording();
    const ms = await runOne(rulerTask, opts, rec);
    expect(calls.map((c) => c.thresholds)).toEqual([[-9.5, 0.5, 10.5], [-10.5, -0.5, 9.5], undefined]);
    const names = ms.map((m) => m.metric);
    expect(names).toEqual(expect.arrayContaining(['score', 'stability', 'score.threshold_plus', 'score.threshold_minus']));
    for (const m of ms.filter((x) => x.metric.startsWith('score'))) expect([0, 100]).toContain(m.value);
  });
});
