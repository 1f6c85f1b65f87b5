// The kernels task: rows name the shape they time, not a model; batches of sequences (CUDA) with
// their lengths in the case; the peers planned at the same cases; the rows of a benchmark result
// (cold and hot samples, bandwidth, full attention, clocks, throttling marked); the facts for
// meta.json. The GPU's result is faked here (the benchmark's fields as the CUDA backend fills them).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { caseString, type Job } from '../src/core/job.js';
import { makeSpec } from '../src/methods/spec.js';
import type { BenchAttentionResult } from '../src/native/addon.js';
import { readRun } from '../src/results/read.js';
import { benchOptions, caseSeconds, kernelsTask, sequenceLengths } from '../src/tasks/kernels/index.js';
import { kernelFacts, kernelRows, throttleNote } from '../src/tasks/kernels/rows.js';
import { bin, ensureBuilt } from './helpers/build.js';

const cuda = { device: 'cuda' as const, seed: 42 };
const gpuOptions = { ...kernelsTask.defaults('cuda'), shapes: ['llama3-8b' as const], kvLens: [8192, 32768], batch: [1, 4, 16] };

describe('planning', () => {
  it('names the shape as the model, each batch a case with its sequences\' lengths', () => {
    const jobs = kernelsTask.plan(gpuOptions, makeSpec('adamas', 256), cuda);
    expect(jobs).toHaveLength(6);
    expect(new Set(jobs.map((j) => j.model))).toEqual(new Set(['shape:llama3-8b']));
    const b4 = jobs.find((j) => j.contextLen === 8192 && j.params.batch === 4)!;
    expect(b4.params).toMatchObject({ nHeads: 32, nKvHeads: 8, headDim: 128, batch: 4, seqLens: '8192/8192/8192/8192', hotRuns: 10 });
    expect(jobs.find((j) => j.params.batch === 1)!.params.seqLens).toBeUndefined();
  });

  it('spreads the lengths when asked, and refuses a spread that straddles the budget', () => {
    expect(sequenceLengths(8192, 1, 0.5)).toEqual([8192]);
    expect(sequenceLengths(8192, 4, 0)).toEqual([8192, 8192, 8192, 8192]);
    expect(sequenceLengths(8192, 5, 0.5)).toEqual([8192, 7168, 6144, 5120, 4096]);
    const spread = { ...gpuOptions, lengthSpread: 0.99 };
    expect(() => kernelsTask.plan(spread, makeSpec('adamas', 256), cuda)).toThrow(/--length-spread 0.99: at kv_len 8192 and batch 4 the lengths 82..8192 straddle the budget 256/);
    expect(kernelsTask.plan(spread, makeSpec('full', undefined), cuda)).toHaveLength(6);
  });

  it('refuses a batch on the CPU, which times one sequence', () => {
    expect(() => kernelsTask.plan({ ...kernelsTask.defaults('cpu'), batch: [1, 4] }, makeSpec('full', undefined), { device: 'cpu', seed: 1 }))
      .toThrow('--batch 1,4: the CPU times one sequence a step (batched steps are timed on CUDA)');
  });

  it('plans each peer at the same cases as ours (the same case column)', () => {
    const peers = kernelsTask.planPeers!({ ...gpuOptions, peers: ['sdpa', 'flashinfer'] }, cuda);
    const ours = kernelsTask.plan(gpuOptions, makeSpec('full', undefined), cuda);
    expect(peers).toHaveLength(12);
    expect(new Set(peers.map((p) => p.peer))).toEqual(new Set(['sdpa', 'flashinfer']));
    expect(new Set(peers.map((p) => caseString(p.params!)))).toEqual(new Set(ours.map((p) => caseString(p.params!))));
    expect(kernelsTask.planPeers!(gpuOptions, cuda)).toEqual([]);
  });

  it('gives the benchmark the sequences, their lengths and the hot runs', () => {
    const [p] = kernelsTask.plan({ ...gpuOptions, batch: [4], lengthSpread: 0.5, hotRuns: 20 }, makeSpec('quest', 1024), cuda);
    const job: Job = { ...p, id: 'x', suite: 's', model: p.model!, method: makeSpec('quest', 1024) };
    expect(benchOptions(job, 'cuda')).toMatchObject({ backend: 'cuda', sequences: 4, seqLens: [8192, 6827, 5461, 4096], kvLen: 8192, batch: 20, method: 'quest' });
    const [one] = kernelsTask.plan(gpuOptions, makeSpec('full', undefined), cuda);
    expect('sequences' in benchOptions({ ...one, id: 'y', suite: 's', model: one.model!, method: makeSpec('full', undefined) }, 'cuda')).toBe(false);
  });
});

/** A CUDA result as the benchmark gives one: an adamas step at 32K, its samples, bytes, clocks. */
function result(throttled: boolean): BenchAttentionResult {
  const s = (us: number) => [us, us * 1.01, us * 0.99];
  return {
    estimate: s(19), topk: s(13), attention: s(10), total: s(40), full: s(140), launch: s(2.5),
    hot: { estimate: s(18), topk: s(12), attention: s(9), total: s(38), full: s(135), launch: s(1.5) },
    batch: 10,
    bytes: { estimate: 2e7, topk: 4e6, attention: 5e6, total: 2.9e7, full: 1.3e8, launch: 0 },
    copyBandwidthGBs: 4000, device: 'NVIDIA H200', backend: 'cuda', sparse: true, seqLens: [32768],
    driver: '580.95.05', driverVersion: 13000, runtimeVersion: 13000, l2Bytes: 52_428_800,
    clocks: { available: true, samples: 120, smMinMHz: throttled ? 1500 : 1980, smMaxMHz: 1980, memMinMHz: 3201, memMaxMHz: 3201, throttled, note: '' },
  };
}

describe('the time a case takes', () => {
  it('leaves its time limit (10x the estimate) room for every phase to run cold and hot to its timeout', () => {
    for (const timeout of [1, 5, 15]) {
      const [p] = kernelsTask.plan({ ...gpuOptions, timeout }, makeSpec('adamas', 256), cuda);
      const job: Job = { ...p, id: 'x', suite: 's', model: p.model!, method: makeSpec('adamas', 256) };
      expect(10 * caseSeconds(job, 'cuda')).toBeGreaterThanOrEqual(2 * 5 * timeout);
      expect(caseSeconds({ ...job, peer: 'flashinfer' }, 'cuda')).toBeGreaterThan(caseSeconds({ ...job, peer: 'sdpa' }, 'cuda'));
    }
  });
});

describe('the rows of a result', () => {
  it('cold and hot samples of every phase, bandwidth, full attention, speedup, copy bandwidth, clocks', () => {
    const rows = kernelRows(result(false), 'adamas@256');
    expect(rows.map((r) => r.metric)).toEqual([
      'latency_us.estimate', 'latency_hot_us.estimate', 'bandwidth_gbs.estimate',
      'latency_us.topk', 'latency_hot_us.topk', 'bandwidth_gbs.topk',
      'latency_us.attention', 'latency_hot_us.attention', 'bandwidth_gbs.attention',
      'latency_us.total', 'latency_hot_us.total', 'bandwidth_gbs.total',
      'latency_us.full', 'latency_hot_us.full', 'speedup_vs_full', 'latency_us.launch', 'latency_hot_us.launch',
      'copy_bandwidth_gbs', 'sm_clock_mhz', 'throttled',
    ]);
    const by = Object.fromEntries(rows.map((r) => [r.metric, r]));
    expect(by['latency_us.total']).toMatchObject({ value: 40, n: 3 });
    expect(by['latency_hot_us.total']).toMatchObject({ value: 38, n: 3 });
    expect(by['latency_hot_us.total'].detail).toContain('10 runs back to back');
    expect(by['bandwidth_gbs.estimate'].value).toBe(Number((2e7 / 19e3).toPrecision(5)));
    expect(by.speedup_vs_full.value).toBe(3.5);
    expect(by.throttled).toMatchObject({ value: 0, n: 120 });
    expect(by.sm_clock_mhz.detail).toContain('SM 1980-1980 MHz, memory 3201-3201 MHz');
    expect(by['latency_us.total'].detail).toBeUndefined();
    expect(by['latency_us.launch']).toMatchObject({ value: 2.5, n: 3 });
    expect(by['latency_us.launch'].detail).toContain('one empty kernel');
  });

  it('a throttled case says so in its latency rows and its throttled row', () => {
    const rows = kernelRows(result(true), 'adamas@256');
    const note = throttleNote(result(true).clocks);
    expect(note).toBe("THROTTLED: the SM clock fell to 1500 MHz, below 90% of the case's highest 1980 MHz");
    for (const r of rows.filter((x) => x.metric.startsWith('latency'))) expect(r.detail).toContain(note);
    expect(rows.find((r) => r.metric === 'throttled')!.value).toBe(1);
  });

  it('without NVML there are no clock rows; meta.json says why', () => {
    const r = { ...result(false), clocks: { ...result(false).clocks, available: false, note: 'libnvidia-ml.so.1 not found' } };
    expect(kernelRows(r, 'x').some((m) => m.metric === 'throttled')).toBe(false);
    expect(kernelFacts(r)).toEqual({ device: 'NVIDIA H200', driver: '580.95.05', driverVersion: 13000, runtimeVersion: 13000, l2Bytes: 52_428_800,
      copyBandwidthGBs: 4000, clocks: 'unavailable: libnvidia-ml.so.1 not found' });
  });
});

describe('the command on the CPU', () => {
  beforeAll(async () => {
    await ensureBuilt();
  });

  it('times the CPU, names the shape, and says why the peers were not measured', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'kernels-')), 'run');
    const r = await execa(process.execPath, [bin, 'kernels', '--device', 'cpu', '--kv-lens', '256', '--methods', 'full', '--peers', 'sdpa,flashinfer',
      '--min-time', '0.01', '--timeout', '0.2', '--min-samples', '5', '--out', out], { reject: false, timeout: 120_000, env: { FORCE_COLOR: '0' } });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const rows = readRun(out).rows;
    expect(new Set(rows.map((x) => x.model))).toEqual(new Set(['shape:smollm2']));
    const peers = rows.filter((x) => x.method.startsWith('peer:'));
    expect(peers.map((x) => [x.method, x.label, x.metric, x.budget, x.skip_layers])).toEqual([
      ['peer:sdpa', 'peer:sdpa', 'skipped', '', ''], ['peer:flashinfer', 'peer:flashinfer', 'skipped', '', ''],
    ]);
    expect(rows.some((x) => x.metric === 'latency_hot_us.total' && x.method === 'full')).toBe(true);
    expect(String(r.stdout)).toContain('peer:sdpa not measured (1 case): peer:sdpa runs on CUDA only; this run is on the CPU');
  }, 120_000);
});
