// The one greedy decoding loop (src/model/greedy.ts) on a scripted engine: what it feeds, when it
// stops, what it times. (test/engine.test.ts runs it on the real model against the golden file.)
import { describe, expect, it } from 'vitest';
import { argmax, generateGreedy, greedyDecode } from '../src/model/greedy.js';
import type { NativeEngine } from '../src/native/addon.js';

const vocab = 8;

/** Logits whose argmax is `id`. */
function peak(id: number): Float32Array {
  const l = new Float32Array(vocab).fill(-1);
  l[id] = 1;
  return l;
}

/** An engine whose next token after `t` is `next(t)`; it records what it was fed. */
function scripted(next: (t: number) => number) {
  const fed: number[] = [];
  const prefilled: number[][] = [];
  const engine = {
    async decode(t: number) {
      fed.push(t);
      return { token: next(t) };
    },
    async prefill(tokens: Int32Array) {
      prefilled.push([...tokens]);
      const token = next(tokens[tokens.length - 1]!);
      return { token, logits: peak(token) };
    },
  } as unknown as NativeEngine;
  return { engine, fed, prefilled };
}

describe('greedyDecode', () => {
  it('feeds the tail, then decodes each new token but the last', async () => {
    const { engine, fed } = scripted((t) => (t + 1) % vocab);
    const seen: number[] = [];
    const r = await greedyDecode(engine, peak(5), { tail: [1, 2], maxNewTokens: 4, onToken: (id) => seen.push(id) });
    // after the tail [1, 2] the engine's last answer is 3 (not the 5 of the prefill)
    expect(r.tokens).toEqual([3, 4, 5, 6]);
    expect(seen).toEqual(r.tokens);
    expect(fed).toEqual([1, 2, 3, 4, 5]);
    expect(r.stepMs).toHaveLength(fed.length);
    expect(r.stopped).toBe(false);
  });

  it('stops before a stop id, which is not part of the output', async () => {
    const { engine, fed } = scripted((t) => (t + 1) % vocab);
    const r = await greedyDecode(engine, peak(2), { maxNewTokens: 10, stopIds: [5] });
    expect(r.tokens).toEqual([2, 3, 4]);
    expect(r.stopped).toBe(true);
    expect(fed).toEqual([2, 3, 4]);
  });

  it('stops at once when the first token is a stop id, and does nothing for 0 tokens', async () => {
    const a = scripted(() => 0);
    expect(await greedyDecode(a.engine, peak(7), { maxNewTokens: 3, stopIds: [7] })).toMatchObject({ tokens: [], stopped: true, stepMs: [] });
    const b = scripted(() => 0);
    expect(await greedyDecode(b.engine, peak(7), { maxNewTokens: 0 })).toMatchObject({ tokens: [], stopped: false, stepMs: [] });
    expect(a.fed.concat(b.fed)).toEqual([]);
  });

  it('takes the first of equal maxima', () => {
    expect(argmax(Float32Array.from([0, 3, 3, 1]))).toBe(1);
  });
});

describe('generateGreedy', () => {
  it('prefills the prompt but its tail and counts the decode steps', async () => {
    const { engine, fed, prefilled } = scripted((t) => (t + 1) % vocab);
    const r = await generateGreedy(engine, [0, 1, 2, 3], { maxTokens: 2, decodeTail: 2 });
    expect(prefilled).toEqual([[0, 1]]);
    expect(fed).toEqual([2, 3, 4]);
    expect(r).toMatchObject({ tokens: [4, 5], prefillTokens: 2, decodeSteps: 3 });
  });

  it('keeps at least one prompt token for the prefill', async () => {
    const s = scripted((t) => t);
    await generateGreedy(s.engine, [6, 7], { maxTokens: 1, decodeTail: 5 });
    expect(s.prefilled).toEqual([[6]]);
    expect(s.fed).toEqual([7]);
  });
});
