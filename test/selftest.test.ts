// adamas-bench selftest: the addon's layer selftest on this build (the CPU rows, the CUDA rows
// absent with the reason, bad options refused), the device choice, the engine checks on the
// default model with a stand-in for the CUDA engine (equal: pass; off by 0.08: fail), and the
// command's exit codes.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../src/core/errors.js';
import { isCached, registry as models } from '../src/model/catalog.js';
import { loadAddon, type BuildInfo, type NativeAddon, type NativeEngine, type SelftestResult } from '../src/native/addon.js';
import { formatSelftest } from '../src/report/selftest-table.js';
import { engineChecks } from '../src/selftest/engine-checks.js';
import { readGolden, type GoldenFixture } from '../src/selftest/golden.js';
import { cudaChoice, runSelftest } from '../src/selftest/selftest.js';
import { bin, ensureBuilt } from './helpers/build.js';
import { defaultModelPath } from './helpers/golden.js';

const addon = loadAddon();
const built = addon.buildInfo();
const modelCached = isCached(models[0]);

function info(cuda: Partial<BuildInfo['cuda']>): BuildInfo {
  return { ...built, cuda: { built: false, driverVersion: 0, runtimeVersion: 0, devices: [], ...cuda } };
}
const gpu = { index: 0, name: 'Fake GPU', totalMemory: 1e11, computeCapability: '9.0', smCount: 132, peakBandwidthGBs: 4800, l2Bytes: 5e7 };

describe('the layer selftest binding', () => {
  let cpu: SelftestResult;
  beforeAll(async () => {
    cpu = await addon.selftest({ device: 'cpu', seed: 5 });
  }, 120_000);

  it('holds the CPU layer of every method to the plain reference, each row with its tolerance', () => {
    expect(cpu.seed).toBe(5);
    expect(cpu.cuda).toMatchObject({ run: false });
    expect(cpu.cuda.reason).toMatch(/--device cpu/);
    expect(cpu.rows.length).toBeGreaterThan(500);
    const methods = new Set(cpu.rows.map((r) => r.method.split(/[@ ]/)[0]));
    expect([...methods].sort()).toEqual(['adamas', 'full', 'oracle', 'quest', 'streaming']);
    expect(new Set(cpu.rows.map((r) => r.check))).toEqual(new Set(['selection', 'attention', 'recall mass']));
    for (const r of cpu.rows) {
      expect(r, JSON.stringify(r)).toMatchObject({ backend: 'cpu', against: 'plain reference', pass: true });
      expect(r.tolerance).not.toBe('');
      if (r.check === 'selection') expect(r.value).toBe(0);
    }
    expect(cpu.rows.some((r) => r.method.includes('gqa kv'))).toBe(true);
    expect(cpu.rows.some((r) => r.method === 'streaming@1 sink 0')).toBe(true);
  });

  it('draws the same inputs from the same seed', async () => {
    const again = await addon.selftest({ device: 'cpu', seed: 5 });
    expect(again.rows.map((r) => r.value)).toEqual(cpu.rows.map((r) => r.value));
  }, 120_000);

  it.runIf(!built.cuda.built)('leaves the CUDA rows out on a build without CUDA and says why', async () => {
    const r = await addon.selftest({ seed: 6 });
    expect(r.cuda.run).toBe(false);
    expect(r.cuda.reason).toMatch(/no CUDA backend/);
    expect(r.rows.filter((x) => x.backend !== 'cpu')).toEqual([]);
    expect(r.rows.length).toBe(cpu.rows.length);
  }, 120_000);

  it('refuses a bad option, naming it', () => {
    const call = (o: unknown) => (addon as unknown as { selftest(o: unknown): Promise<unknown> }).selftest(o);
    expect(() => call({ device: 'gpu' })).toThrow(/device must be 'cpu', 'cuda' or 'auto' \(got 'gpu'\)/);
    expect(() => call({ seed: -1 })).toThrow(/seed must be an integer in \[0, 2\^53\)/);
    expect(() => call({ seed: 1.5 })).toThrow(/seed must be an integer/);
    expect(() => call({ sed: 1 })).toThrow(/unknown option 'sed'/);
    try {
      call({ device: 7 });
    } catch (err) {
      expect((err as { code?: string }).code).toBe('ERR_INVALID_OPTION');
    }
  });
});

describe('which backends the selftest checks', () => {
  it('--device cpu: the CPU only', () => {
    expect(cudaChoice('cpu', info({ built: true, devices: [gpu] }))).toEqual({ cuda: false, reason: 'not asked for (--device cpu)' });
  });
  it('auto: CUDA where it is built and a device is visible, else why not', () => {
    expect(cudaChoice('auto', info({ built: true, devices: [gpu] }))).toEqual({ cuda: true });
    expect(cudaChoice('auto', info({ built: false })).reason).toMatch(/no CUDA backend/);
    expect(cudaChoice('auto', info({ built: true, error: 'no CUDA driver found' })).reason).toBe('no CUDA driver found');
  });
  it('--device cuda without CUDA: bad input', () => {
    expect(() => cudaChoice('cuda', info({ built: false }))).toThrow(UsageError);
    expect(() => cudaChoice('cuda', info({ built: true }))).toThrow(/--device cuda: no CUDA device is visible/);
  });
});

// A CPU engine that says it is the CUDA one, its logits moved by `offset`.
function standIn(inner: NativeEngine, offset: number): NativeEngine {
  const shift = (l: Float32Array) => l.map((v) => v + offset);
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === 'backend') return 'cuda';
      if (prop === 'prefill') return async (t: Int32Array, o: { logits?: boolean }) => {
        const r = await target.prefill(t, o);
        return r.logits ? { ...r, logits: shift(r.logits) } : r;
      };
      if (prop === 'decode') return async (t: number, o: { logits?: boolean }) => {
        const r = await target.decode(t, o);
        return r.logits ? { ...r, logits: shift(r.logits) } : r;
      };
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

describe.runIf(modelCached)('the engine checks on the default model', () => {
  let cpu: NativeEngine;
  let cudaLike: NativeEngine;
  let small: GoldenFixture;
  beforeAll(async () => {
    const path = await defaultModelPath();
    cpu = new addon.Engine(path);
    cudaLike = new addon.Engine(path);
    const g = readGolden()!;
    small = { ...g, logits: g.logits.filter((p) => p.name !== 'long'), greedy: g.greedy.slice(1) };
  }, 120_000);

  it('holds the CPU engine to the golden fixture and a CUDA engine to the CPU engine', async () => {
    const rows = await engineChecks((d) => (d === 'cpu' ? cpu : standIn(cudaLike, 0)), small, { cuda: true });
    expect(rows.map((r) => [r.backend, r.against, r.check])).toEqual([
      ['cpu', 'transformers (golden)', 'logits at the last position (top 20)'],
      ['cpu', 'transformers (golden)', 'logits at the last position (top 20)'],
      ['cpu', 'transformers (golden)', 'greedy tokens (16 steps)'],
      ['cuda', 'cpu engine', 'logits at the last position (all)'],
      ['cuda', 'cpu engine', 'logits at the last position (all)'],
      ['cuda', 'cpu engine', 'greedy tokens (16 steps)'],
      ['cuda', 'cpu engine', 'logits at the last position (all), f32 weights'],
      ['cuda', 'cpu engine', 'logits at the last position (all), f32 weights'],
    ]);
    for (const r of rows) expect(r.pass, JSON.stringify(r)).toBe(true);
    expect(rows[3].value).toBe(0);
    expect(rows[3].tolerance).toBe('|d| <= 0.05');
    expect(rows[6].tolerance).toBe('|d| <= 0.02');
  }, 120_000);

  it('fails a CUDA engine whose logits are off, or that cannot be made', async () => {
    const off = await engineChecks((d) => (d === 'cpu' ? cpu : standIn(cudaLike, 0.08)), small, { cuda: true });
    const logits = off.filter((r) => r.backend === 'cuda' && r.check.startsWith('logits'));
    expect(logits.every((r) => !r.pass && Math.abs(r.value - 0.08) < 1e-5)).toBe(true);
    expect(off.find((r) => r.check.startsWith('greedy') && r.backend === 'cuda')?.pass).toBe(true);  // a shift moves no argmax
    const none = await engineChecks((d) => {
      if (d === 'cuda') throw new Error('CUDA engine: out of device memory');
      return cpu;
    }, small, { cuda: true });
    expect(none.at(-1)).toMatchObject({ backend: 'cuda', check: 'engine', pass: false });
    expect(none.at(-1)?.note).toMatch(/could not be made: CUDA engine: out of device memory/);
  }, 120_000);

  it('runs the CUDA engine checks only when the CUDA layers ran', async () => {
    const fake: NativeAddon = {
      ...addon,
      buildInfo: () => info({ built: true, devices: [gpu] }),
      selftest: async () => ({ seed: 9, seconds: 0, cuda: { run: true, device: 'Fake GPU' }, rows: [] }),
    };
    const report = await runSelftest({ device: 'cuda' }, { addon: fake, golden: small, engines: () => (d) => (d === 'cpu' ? cpu : standIn(cudaLike, 0)) });
    expect(report.cuda).toEqual({ run: true, device: 'Fake GPU' });
    expect(report.engine.rows.filter((r) => r.backend === 'cuda')).toHaveLength(5);
    expect(report.failures).toBe(0);
    const text = formatSelftest(report);
    expect(text).toMatch(/on CPU and CUDA \(Fake GPU\), seed 9/);
    expect(text).toMatch(/selftest passed/);
  }, 120_000);
});

describe('the selftest without the model', () => {
  it('skips the engine checks with the way to fetch it, or fails them with --engine', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'cache-'));
    const fake: NativeAddon = { ...addon, selftest: async () => ({ seed: 1, seconds: 0, cuda: { run: false, reason: 'r' }, rows: [] }) };
    const skipped = await runSelftest({ device: 'cpu', cacheDir: cache }, { addon: fake });
    expect(skipped.engine.run).toBe(false);
    expect(skipped.engine.reason).toMatch(/adamas-bench models fetch/);
    expect(skipped.failures).toBe(0);
    expect(formatSelftest(skipped)).toMatch(/engine checks not run: the default model is not cached/);
    const required = await runSelftest({ device: 'cpu', cacheDir: cache, requireEngine: true }, { addon: fake });
    expect(required.failures).toBe(1);
  });
});

describe('adamas-bench selftest', () => {
  beforeAll(ensureBuilt, 120_000);
  const run = (args: string[], env: Record<string, string> = {}) =>
    execa(process.execPath, [bin, 'selftest', ...args], { reject: false, timeout: 120_000, env: { FORCE_COLOR: '0', ...env } });

  it.runIf(!built.cuda.built)('--device cuda on a build without CUDA: exit 2, saying why, nothing run', async () => {
    const r = await run(['--device', 'cuda']);
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr)).toMatch(/--device cuda: this build has no CUDA backend/);
    expect(String(r.stdout)).toBe('');
  });

  it('a bad seed: exit 2', async () => {
    const r = await run(['--seed', '-3']);
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr)).toMatch(/--seed/);
  });

  it('--device cpu --json: every check, the seed, why CUDA did not run; exit 0', async () => {
    const r = await run(['--device', 'cpu', '--seed', '17', '--json'], { ADAMAS_BENCH_CACHE: mkdtempSync(join(tmpdir(), 'cache-')) });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const report = JSON.parse(String(r.stdout)) as { seed: number; cuda: { run: boolean; reason: string }; layers: SelftestResult; engine: { run: boolean } };
    expect(report.seed).toBe(17);
    expect(report.cuda).toEqual({ run: false, reason: 'not asked for (--device cpu)' });
    expect(report.layers.rows.every((x) => x.pass)).toBe(true);
    expect(report.engine.run).toBe(false);
  }, 120_000);
});
