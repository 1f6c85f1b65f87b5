// e2e on the GPU, exercised here with a fake engine that reports device times: the bytes floor
// arithmetic against plain references (the synthetic presets' parameter counts, the PyTorch peer's
// own formula), the rows (median, p10/p90, tokens/s, floor and ratio), the KV cache reserved for
// prompt and new tokens, the wall clock kept on the CPU, and the torch peer's planning and rows.
import { describe, expect, it } from 'vitest';
import type { Job } from '../src/core/job.js';
import { makeSpec, type MethodSpec } from '../src/methods/spec.js';
import { decodeWeightElements, kvBytesPerPosition } from '../src/model/footprint.js';
import type { LoadedModel } from '../src/model/model.js';
import { syntheticModel } from '../src/model/synthetic.js';
import type { ModelConfig, NativeEngine } from '../src/native/addon.js';
import { attendedKvBytes, decodeFloor, meanTimedKvLength } from '../src/tasks/e2e/floor.js';
import { e2eTask, runEngineJob } from '../src/tasks/e2e/index.js';
import { decodeLatencyRows, floorRows } from '../src/tasks/e2e/rows.js';
import { torchPeerRows } from '../src/tasks/e2e/torch-peer.js';
import type { RunContext } from '../src/tasks/types.js';
import { PrefixSession } from '../src/worker/session.js';

const llama2 = syntheticModel('synthetic:llama2-7b');
const llama3 = syntheticModel('synthetic:llama3-8b');
const smollm = syntheticModel('synthetic:smollm2-135m');

/** llama_decode.py's weight_bytes / 2: lm_head, out_norm, and per layer attn_norm, wqkv, wo, ffn_norm, w_gate_up, w_down. */
function peerWeightElements(c: ModelConfig): number {
  const { dModel: d, nHeads: H, nKvHeads: KV, headDim: D, dFf: ff, vocabSize: V, nLayers: L } = c;
  return V * d + d + L * (d + (H + 2 * KV) * D * d + d * H * D + d + 2 * ff * d + d * ff);
}

describe('the bytes floor of a decode step', () => {
  it('reads every weight but the embedding table (the LM head instead), as the PyTorch peer counts them', () => {
    for (const m of [llama2, llama3, smollm]) expect(decodeWeightElements(m.config), m.name).toBe(peerWeightElements(m.config));
    // against the native parameter counts: all but the embedding table, unless it is the LM head too
    expect(decodeWeightElements(llama2.config)).toBe(llama2.parameters - 32000 * 4096);
    expect(decodeWeightElements(smollm.config)).toBe(smollm.parameters);
  });

  it('reads the whole KV cache for full attention, the budget\'s positions in the sparse layers', () => {
    const c = llama2.config;
    const dense = 2 * 32 * 128 * 2; // K and V of 32 KV heads x 128, fp16, per layer and position
    expect(kvBytesPerPosition({ layers: 32, kvHeads: 32, headDim: 128 })).toBe(32 * dense);
    expect(attendedKvBytes(c, makeSpec('full', undefined), 32768)).toBe(32 * dense * 32768);
    // adamas@256, 2 dense layers, a list of 256 positions per query head in the other 30
    expect(attendedKvBytes(c, makeSpec('adamas', 256), 32768)).toBe(2 * dense * 32768 + 30 * dense * 256);
    // at or below the budget every layer is dense
    expect(attendedKvBytes(c, makeSpec('adamas', 256), 256)).toBe(32 * dense * 256);
    // GQA 32/8: lists per query head (32), per KV head with --gqa kv, StreamingLLM's window per KV head
    const g = llama3.config;
    const kvHead = 2 * 128 * 2;
    expect(attendedKvBytes(g, makeSpec('quest', 1024, { skipLayers: 0 }), 65536)).toBe(32 * 32 * kvHead * 1024);
    expect(attendedKvBytes(g, makeSpec('quest', 1024, { skipLayers: 0, gqa: 'kv' }), 65536)).toBe(32 * 8 * kvHead * 1024);
    expect(attendedKvBytes(g, makeSpec('streaming', 1024, { skipLayers: 0 }), 65536)).toBe(32 * 8 * kvHead * 1024);
  });

  it('is those bytes at the copy bandwidth', () => {
    const f = decodeFloor(llama2.config, makeSpec('full', undefined), 32768, 4000);
    expect(f.weightBytes).toBe(2 * (llama2.parameters - 32000 * 4096));
    expect(f.kvBytes).toBe(524288 * 32768);
    expect(f.bytes).toBe(f.weightBytes + f.kvBytes);
    expect(f.floorMs).toBeCloseTo((f.bytes / 4000e9) * 1e3, 12);
    // --weights: bf16 reads as many bytes as fp16, f32 twice; the KV cache is fp16 either way
    expect(decodeFloor(llama2.config, makeSpec('full', undefined), 32768, 4000, 'bf16').weightBytes).toBe(f.weightBytes);
    const f32 = decodeFloor(llama2.config, makeSpec('full', undefined), 32768, 4000, 'f32');
    expect(f32.weightBytes).toBe(2 * f.weightBytes);
    expect(f32.kvBytes).toBe(f.kvBytes);
  });

  it('is taken at the mean KV length of the timed steps', () => {
    // steps attend over 8193, 8194, ...: 8 untimed, then 256 timed from 8201 to 8456
    expect(meanTimedKvLength(8192, 8, 256)).toBe((8201 + 8456) / 2);
    expect(meanTimedKvLength(100, 0, 1)).toBe(101);
  });
});

describe('the rows', () => {
  it('median, p10 and p90 (numpy\'s linear quantiles), every step a sample, tokens/s', () => {
    const rows = decodeLatencyRows([10, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'CUDA events');
    const by = Object.fromEntries(rows.map((r) => [r.metric, r]));
    expect(by.decode_ms_per_token).toMatchObject({ value: 5.5, unit: 'ms', n: 10 });
    expect(by.decode_ms_per_token.samples).toHaveLength(10);
    expect(by.decode_ms_per_token.detail).toContain('CUDA events');
    expect(by['decode_ms_per_token.p10'].value).toBeCloseTo(1.9, 10);
    expect(by['decode_ms_per_token.p90'].value).toBeCloseTo(9.1, 10);
    expect(by.decode_tokens_per_s.value).toBeCloseTo(1000 / 5.5, 3);
    expect(decodeLatencyRows([], 'x')).toEqual([]);
  });

  it('the floor, and floor / measured', () => {
    const rows = floorRows({ bytes: 30e9, weightBytes: 13e9, kvBytes: 17e9, floorMs: 7.5, copyGBs: 4000, kvLen: 32768 }, 10);
    const by = Object.fromEntries(rows.map((r) => [r.metric, r]));
    expect(by.bytes_per_token.value).toBe(30e9);
    expect(by.floor_ms_per_token.value).toBe(7.5);
    expect(by.floor_ratio.value).toBe(0.75);
  });
});

/** An engine that reports the device times it is given, one a decode step. */
function fakeEngine(config: ModelConfig, deviceMs: number[]) {
  const calls: string[] = [];
  let length = 0;
  let step = 0;
  const engine = {
    config, backend: 'cuda', deviceName: 'Fake GPU',
    get length() { return length; },
    get lastDecodeMs() { return deviceMs[step - 1] ?? Number.NaN; },
    setAttention: (o: { method: string }) => calls.push(`setAttention ${o.method}`),
    reset: () => { calls.push('reset'); length = 0; },
    truncate: (n: number) => { calls.push(`truncate ${n}`); length = n; },
    reserve: (n: number) => calls.push(`reserve ${n}`),
    prefill: async (t: Int32Array) => { calls.push(`prefill ${t.length}`); length += t.length; return { token: 1, logits: new Float32Array(config.vocabSize) }; },
    decode: async () => { step++; length++; return { token: 1 }; },
    replayNext: () => {},
    records: () => ({ positions: new Int32Array() }),
  };
  return { engine: engine as unknown as NativeEngine, calls };
}

function e2eJob(method: MethodSpec, contextLen = 64): Job {
  return { id: 'j', suite: 's', task: 'e2e', dataset: '', model: 'synthetic:smollm2-135m', method, contextLen,
    params: { decode: 4, warmup: 2 }, prefixKey: `e2e:${contextLen}:1`, seed: 1 };
}

function gpuContext(deviceMs: number[], device: 'cpu' | 'cuda' = 'cuda') {
  const { engine, calls } = fakeEngine(smollm.config, deviceMs);
  const facts: Record<string, unknown> = {};
  const model = { engine, synthetic: true, config: smollm.config, resolved: { spec: smollm.name, path: smollm.name } } as unknown as LoadedModel;
  const ctx: RunContext = { model, device, preparePrefix: new PrefixSession(engine).prepare, log: () => {}, recordFacts: (f) => Object.assign(facts, f) };
  return { ctx, calls, facts };
}

describe('a job on the GPU', () => {
  it('times the steps after the warm-up by the device, sized once for prompt and new tokens, with the floor', async () => {
    // 2 warm-up steps, 4 timed, one more token decoded but the last
    const { ctx, calls, facts } = gpuContext([50, 40, 3, 4, 5, 6, 99]);
    const rows = await runEngineJob(e2eJob(makeSpec('full', undefined)), ctx, async () => 2000);
    expect(calls.slice(0, 4)).toEqual(['reserve 71', 'reset', 'setAttention full', 'prefill 64']);
    const by = Object.fromEntries(rows.map((r) => [r.metric, r]));
    expect(by.decode_ms_per_token).toMatchObject({ value: 4.5, n: 4, samples: [3, 4, 5, 6] });
    expect(by.decode_ms_per_token.detail).toContain('CUDA events');
    expect(by.prefill_s.unit).toBe('s');
    const floor = decodeFloor(smollm.config, makeSpec('full', undefined), meanTimedKvLength(64, 2, 4), 2000);
    expect(by.bytes_per_token.value).toBe(Math.round(floor.bytes));
    expect(by.floor_ms_per_token.value).toBeCloseTo(floor.floorMs, 4);
    expect(by.floor_ratio.value).toBeCloseTo(floor.floorMs / 4.5, 4);
    expect(by.decode_wall_ms_per_token.n).toBe(4);
    expect(facts.copyBandwidthGBs).toBe(2000);
  });

  it('keeps the wall clock on the CPU (no device times, no floor)', async () => {
    const { ctx } = gpuContext([], 'cpu');
    const rows = await runEngineJob(e2eJob(makeSpec('full', undefined)), ctx, async () => { throw new Error('not on the CPU'); });
    expect(rows.map((r) => r.metric)).toEqual(['prefill_s', 'prefill_tokens_per_s', 'decode_ms_per_token', 'decode_tokens_per_s']);
  });
});

describe('the PyTorch peer', () => {
  const options = { ...e2eTask.defaults('cuda'), contextLens: [8192, 32768], peers: ['torch' as const] };

  it('plans one job a length beside ours, on a synthetic model only', () => {
    const jobs = e2eTask.planPeers!(options, { device: 'cuda', model: 'synthetic:llama2-7b', seed: 42 });
    expect(jobs.map((j) => [j.peer, j.contextLen, j.prefixKey])).toEqual([['torch', 8192, ''], ['torch', 32768, '']]);
    expect(e2eTask.planPeers!({ ...options, peers: [] }, { device: 'cuda', model: 'default', seed: 42 })).toEqual([]);
    expect(() => e2eTask.planPeers!(options, { device: 'cuda', model: 'smollm2-135m-instruct-q4_1', seed: 42 }))
      .toThrow("the PyTorch peer times random weights of a synthetic model's shape, not 'smollm2-135m-instruct-q4_1'");
  });

  it('turns llama_decode.py\'s lines into our rows', () => {
    const lines = [
      { peer: 'torch', model: 'llama2-7b', context_len: 8192, prefill_s: 0.25, device: 'H200', torch: '2.9.0' },
      { peer: 'torch', model: 'llama2-7b', context_len: 8192, decode_ms: [6, 5, 7, 6], bytes_per_token: 1.7e10, floor_ms: 4.2, copy_gbs: 4000, device: 'H200', torch: '2.9.0' },
    ];
    const by = Object.fromEntries(torchPeerRows(lines, 8192).map((r) => [r.metric, r]));
    expect(by.prefill_s.value).toBe(0.25);
    expect(by.prefill_tokens_per_s.value).toBeCloseTo(8192 / 0.25, 6);
    expect(by.decode_ms_per_token).toMatchObject({ value: 6, n: 4 });
    expect(by.floor_ratio.value).toBe(0.7);
    expect(torchPeerRows(lines, 32768)).toMatchObject([{ metric: 'skipped', detail: 'llama_decode.py printed no decode timing for context_len 32768' }]);
    expect(torchPeerRows([{ peer: 'torch', skipped: 'torch sees no CUDA device' }], 8192))
      .toMatchObject([{ metric: 'skipped', value: 1, detail: 'llama_decode.py: torch sees no CUDA device' }]);
  });

  it('is a skip row on the CPU, never a failure', async () => {
    const { ctx } = gpuContext([], 'cpu');
    const rows = await e2eTask.run({ ...e2eJob(makeSpec('full', undefined)), peer: 'torch' }, ctx);
    expect(rows).toEqual([{ metric: 'skipped', value: 1, unit: '', n: 1, detail: 'the PyTorch peer runs on CUDA only; this run is on the CPU' }]);
  });
});
