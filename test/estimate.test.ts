// Estimates priced from measured rates: the work of each job at this machine's rates, the prefill
// of a prefix key paid once, a worker's start once per model, the rates read from the cache (a dry
// run then loads no model), measured by a probe when none are cached; the job time limits.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../src/core/job.js';
import { makeSpec } from '../src/methods/spec.js';
import { isCached, registry as models } from '../src/model/catalog.js';
import { loadAddon } from '../src/native/addon.js';
import { calibrationKey, cachedCalibration, ratesFor, type Rates } from '../src/runner/calibration.js';
import { estimatePlan, jobTimeoutSeconds, workSeconds } from '../src/runner/estimate.js';
import { passkeyTask } from '../src/tasks/passkey/index.js';
import type { TaskRegistry } from '../src/tasks/task-registry.js';
import { bin, ensureBuilt } from './helpers/build.js';
import { defaultModelPath } from './helpers/golden.js';

const rates: Rates = { prefill: { a: 0.002, b: 1e-6 }, decode: { c: 0.03, d: 1e-5 }, workerStart: 3, perJob: 0.1, modelElements: 0 };

function job(depth: number, method: 'full' | 'adamas', prefixKey = `k${depth}`): Job {
  return {
    id: `${method}${depth}`, suite: 's', task: 'passkey', dataset: '', model: 'default', method: makeSpec(method, method === 'full' ? undefined : 64),
    contextLen: 1024, depth, params: { trial: 0, key: 1 }, prefixKey, seed: 42,
  };
}

const registry: TaskRegistry = { passkey: passkeyTask };

describe('the estimate of a plan', () => {
  it('prices a job\'s prefill (growing with its length) and its decode steps (at their mean KV length)', () => {
    const s = workSeconds({ prefillTokens: 1000, decodeSteps: 100, decodeFrom: 1000 }, rates);
    expect(s).toBeCloseTo(1000 * (0.002 + 1e-6 * 1000) + 100 * (0.03 + 1e-5 * 1050) + 0.1, 9);
    expect(workSeconds({ prefillTokens: 1000, decodeSteps: 100, decodeFrom: 1000 }, rates, { prefill: false })).toBeCloseTo(100 * (0.03 + 1e-5 * 1050) + 0.1, 9);
    expect(workSeconds({ seconds: 4 }, rates)).toBeCloseTo(4.1, 9);
  });

  it('pays the prefill of a prefix key once (the methods of one case share it), and each model\'s worker start once', () => {
    const work = passkeyTask.estimateWork!(job(0, 'full'), 'cpu');
    expect(work).toEqual({ prefillTokens: 924, decodeSteps: 110, decodeFrom: 924 });
    const shared = [job(0, 'full'), job(0, 'adamas'), job(50, 'full'), job(50, 'adamas')];
    const ctx = { registry, device: 'cpu' as const, rates, slots: 1, loadsModel: true };
    const withPrefill = workSeconds(work, rates);
    const without = workSeconds(work, rates, { prefill: false });
    expect(estimatePlan(shared, ctx)).toBeCloseTo(2 * withPrefill + 2 * without + 3, 9);
    const unshared = shared.map((j, i) => ({ ...j, prefixKey: i % 2 ? '' : j.prefixKey }));
    expect(estimatePlan(unshared, ctx)).toBeCloseTo(4 * withPrefill + 3, 9);
    expect(estimatePlan(shared, { ...ctx, slots: 2 })).toBeCloseTo((2 * withPrefill + 2 * without) / 2 + 3, 9);
    expect(estimatePlan([...shared, { ...job(0, 'full'), id: 'other', model: 'other.gguf' }], ctx))
      .toBeCloseTo(3 * withPrefill + 2 * without + 6, 9);
  });

  it('is undefined when a task gives no work', () => {
    expect(estimatePlan([{ ...job(0, 'full'), task: 'ppl' }], { registry, device: 'cpu', rates, slots: 1, loadsModel: true })).toBeUndefined();
  });

  it('sets a job\'s time limit to 10x its estimate, at least 60 s; --job-timeout overrides; no estimate: 30 min', () => {
    const ctx = { registry, device: 'cpu' as const, rates };
    const est = workSeconds(passkeyTask.estimateWork!(job(0, 'full'), 'cpu'), rates);
    expect(jobTimeoutSeconds(job(0, 'full'), ctx)).toBeCloseTo(Math.max(60, 10 * est), 9);
    expect(jobTimeoutSeconds({ ...job(0, 'full'), contextLen: 8000 }, { ...ctx, rates: { ...rates, prefill: { a: 0.01, b: 0 } } })).toBeGreaterThan(600);
    expect(jobTimeoutSeconds(job(0, 'full'), ctx, 2.5)).toBe(2.5);
    expect(jobTimeoutSeconds({ ...job(0, 'full'), task: 'ppl' }, ctx)).toBe(1800);
  });
});

describe('the rates', () => {
  let cache: string;
  beforeAll(async () => {
    await ensureBuilt();
    cache = mkdtempSync(join(tmpdir(), 'calib-'));
  });

  const dryRun = (env: Record<string, string>) =>
    execa(process.execPath, [bin, 'passkey', '--budget', '64', '--dry-run'], { reject: false, env: { FORCE_COLOR: '0', ADAMAS_BENCH_DATA: '', ...env } });

  it('come from the cache, keyed by device, CPU, threads and build; a dry run then loads no model', async () => {
    const key = calibrationKey('cpu', loadAddon().buildInfo(), undefined);
    expect(key).toMatch(/^cpu \| .+ \| threads \d+ \| 0\.1\.0 .+ @\d+$/);
    expect(calibrationKey('cpu', loadAddon().buildInfo(), 1)).not.toBe(key);
    // rates no machine has: the estimate says hours, and the cache holds no model to load
    writeFileSync(join(cache, 'calibration.json'), JSON.stringify({ version: 1, entries: {
      [key]: { ...rates, prefill: { a: 1, b: 0 }, key, measuredAt: '2026-01-02T00:00:00.000Z', model: 'smollm2-135m-instruct-q4_1' },
    } }));
    const r = await dryRun({ ADAMAS_BENCH_CACHE: cache });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/estimated time: about \d+\.\d h on cpu/);
    expect(r.stderr).toContain('estimate: rates of this machine measured 2026-01-02');
    expect(existsSync(join(cache, 'models'))).toBe(false);
  });

  it('are rough, and said to be, when nothing is cached and no model is there to measure them', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'calib-'));
    const r = await dryRun({ ADAMAS_BENCH_CACHE: empty });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain('estimate: rough: the default model is not cached, so this machine is not calibrated');
    expect(readdirSync(empty)).toEqual([]);
  });

  const modelCached = process.env.ADAMAS_BENCH_CACHE !== undefined ? isCached(models[0], process.env.ADAMAS_BENCH_CACHE) : isCached(models[0]);
  it.skipIf(!modelCached)('are measured by a probe of a few seconds on the default model, once, then cached', async () => {
    const probeCache = mkdtempSync(join(tmpdir(), 'calib-'));
    mkdirSync(join(probeCache, 'models'));
    symlinkSync(await defaultModelPath(), join(probeCache, 'models', models[0].file));
    const info = loadAddon().buildInfo();
    const logged: string[] = [];
    const t0 = performance.now();
    const first = await ratesFor('cpu', info, { cache: probeCache, probe: true, log: (m) => logged.push(m) });
    expect((performance.now() - t0) / 1000).toBeLessThan(30);
    expect(first.source).toBe('measured now');
    expect(logged).toEqual(['calibrating the estimate on this machine once (a few seconds on the default model)...']);
    const m = first.rates;
    expect(m.prefill.a).toBeGreaterThan(1e-5); // a token takes more than 10 us and less than 0.1 s to prefill
    expect(m.prefill.a).toBeLessThan(0.1);
    expect(m.decode.c).toBeGreaterThan(1e-4);
    expect(m.decode.c).toBeLessThan(1);
    expect(m.prefill.b).toBeGreaterThanOrEqual(0);
    expect(m.decode.d).toBeGreaterThanOrEqual(0);
    expect(m.workerStart).toBeGreaterThan(0);
    expect(m.modelElements).toBeGreaterThan(1e8);
    expect(cachedCalibration(calibrationKey('cpu', info, undefined), probeCache)).toEqual(m);
    const second = await ratesFor('cpu', info, { cache: probeCache, probe: true, log: (msg) => logged.push(msg) });
    expect(second.source).toBe('calibrated');
    expect(second.rates).toEqual(m);
    expect(logged).toHaveLength(1);
  });
});
