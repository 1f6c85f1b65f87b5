// The CPU engine against Hugging Face transformers (float32, CPU) on the same GGUF file: top-20
// logits within 1e-2, identical greedy continuation, the same mean NLL over 1,379 tokens.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAddon, type NativeEngine } from '../src/native/addon.js';
import { argmax, generateGreedy } from '../src/model/greedy.js';
import { defaultModelPath, golden } from './helpers/golden.js';

// The issue asks for 1e-2; the engine reaches about 2e-5, so hold it to 1e-3.
const TOL = 1e-3;

function logsumexp(x: Float32Array): number {
  let m = -Infinity;
  for (const v of x) m = Math.max(m, v);
  let s = 0;
  for (const v of x) s += Math.exp(v - m);
  return m + Math.log(s);
}

describe('CPU engine vs transformers (SmolLM2-135M-Instruct Q4_1)', () => {
  let engine: NativeEngine;

  beforeAll(async () => {
    engine = new (loadAddon().Engine)(await defaultModelPath());
  });

  it('reads the model configuration', async () => {
    expect(engine.config).toMatchObject({
      arch: 'llama', nLayers: 30, dModel: 576, nHeads: 9, nKvHeads: 3, headDim: 64, dFf: 1536,
      vocabSize: 49152, ropeBase: 100000, tiedEmbeddings: true,
    });
  });

  for (const prompt of golden.logits) {
    it(`matches the top-20 logits of the '${prompt.name}' prompt (${prompt.ids.length} tokens)`, async () => {
      engine.reset();
      const { logits } = await engine.prefill(Int32Array.from(prompt.ids), { logits: true });
      let worst = 0;
      for (const [id, want] of prompt.top20) worst = Math.max(worst, Math.abs(logits[id] - want));
      expect(worst).toBeLessThan(TOL);
      expect(Math.abs(logsumexp(logits) - prompt.logsumexp)).toBeLessThan(TOL);
      // the same ranking: our top-20 ids are transformers' top-20 ids, in order where values differ by > TOL
      const ours = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a]).slice(0, 20);
      prompt.top20.forEach(([id, v], i) => {
        const next = prompt.top20[i + 1];
        if (!next || v - next[1] > 2 * TOL) expect(ours[i]).toBe(id);
      });
      expect(engine.length).toBe(prompt.ids.length);
    });
  }

  it('gives the same logits through the decode path as through the prefill', async () => {
    const ids = golden.logits.find((p) => p.name === 'chat')!.ids;
    engine.reset();
    const dense = (await engine.prefill(Int32Array.from(ids), { logits: true })).logits;
    engine.reset();
    await engine.prefill(Int32Array.from(ids.slice(0, 20)));
    let logits: Float32Array = new Float32Array();
    for (const id of ids.slice(20)) logits = (await engine.decode(id, { logits: true })).logits;
    let worst = 0;
    for (let i = 0; i < dense.length; i++) worst = Math.max(worst, Math.abs(dense[i] - logits[i]));
    expect(worst).toBeLessThan(1e-3);
  });

  it('truncates the cache back to a prefix and decodes as if freshly prefilled', async () => {
    const ids = golden.logits.find((p) => p.name === 'chat')!.ids;
    engine.reset();
    await engine.prefill(Int32Array.from(ids.slice(0, 30)));
    const first: Float32Array[] = [];
    for (const id of ids.slice(30)) first.push((await engine.decode(id, { logits: true })).logits);
    engine.truncate(30);
    expect(engine.length).toBe(30);
    engine.setAttention({ method: 'full' });
    const again: Float32Array[] = [];
    for (const id of ids.slice(30)) again.push((await engine.decode(id, { logits: true })).logits);
    expect(again).toEqual(first);
    expect(() => engine.truncate(1000)).toThrow(/cannot truncate to 1000 tokens: the cache holds 37/);
  });

  it('returns the greedy token, describes its device and replays recorded selections bit for bit', async () => {
    expect(engine.backend).toBe('cpu');
    expect(engine.deviceName.length).toBeGreaterThan(0);
    expect(Number.isNaN(engine.lastDecodeMs)).toBe(true);
    const ids = golden.logits.find((p) => p.name === 'chat')!.ids;
    engine.reset();
    engine.reserve(1024);
    engine.setAttention({ method: 'adamas', budget: 16, recordSelection: true });
    const prefilled = await engine.prefill(Int32Array.from(ids.slice(0, 30)), { logits: true });
    expect(prefilled.token).toBe(argmax(prefilled.logits));
    const first: Float32Array[] = [];
    for (const id of ids.slice(30)) {
      const r = await engine.decode(id, { logits: true });
      expect(r.token).toBe(argmax(r.logits));
      first.push(r.logits);
    }
    const recorded = engine.records({ clear: true }).selected!;
    expect(recorded).toHaveLength(ids.length - 30);
    engine.truncate(30);
    engine.setAttention({ method: 'streaming', budget: 16 }); // replayed lists replace any selection
    const again: Float32Array[] = [];
    for (const [i, id] of ids.slice(30).entries()) {
      engine.replayNext(recorded[i]!);
      again.push((await engine.decode(id, { logits: true })).logits);
    }
    expect(again).toEqual(first);
    expect(await engine.decode(1)).not.toHaveProperty('logits');
    expect(() => engine.replayNext([])).toThrow(/0 lists, expected n_layers x n_heads = 30 x 9/);
    expect(() => new (loadAddon().Engine)('x.gguf', { device: 'tpu' as 'cpu' })).toThrow(/unknown device 'tpu' \(choices: cpu, cuda\)/);
    engine.setAttention({ method: 'full' });
  });

  for (const greedy of [golden.greedy, golden.greedy_robust]) {
    it(`continues '${greedy.text.slice(0, 24).replace(/\n/g, ' ')}...' greedily exactly as transformers does (32 tokens)`, async () => {
      engine.reset();
      const r = await generateGreedy(engine, greedy.ids, { maxTokens: 32 });
      expect(r.tokens).toEqual(greedy.continuation);
    });
  }

  it('computes the mean next-token NLL of the long prompt in the prefill', async () => {
    const ids = golden.logits.find((p) => p.name === golden.nll.name)!.ids;
    engine.reset();
    const { nll, logits } = await engine.prefill(Int32Array.from(ids), { nll: true, logits: true });
    expect(nll).toBeDefined();
    expect(nll!.length).toBe(golden.nll.count);
    const mean = nll!.reduce((a, b) => a + b, 0) / nll!.length;
    expect(Math.abs(mean - golden.nll.mean)).toBeLessThan(1e-3);
    // the last logits are returned unchanged alongside the NLL
    expect(argmax(logits)).toBe(golden.logits.find((p) => p.name === golden.nll.name)!.top20[0][0]);
  });

  it('rejects token ids outside the vocabulary with a clear error', async () => {
    engine.reset();
    await expect(engine.prefill(Int32Array.from([1, 49152]))).rejects.toThrow(/token id 49152 at index 1 is outside the vocabulary/);
    await expect(engine.decode(-1)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    // one computation at a time: a second call before the first settles is refused
    const first = engine.prefill(Int32Array.from([1, 2, 3]));
    expect(() => engine.decode(4)).toThrow(/the engine is busy/);
    await first;
  });
});
