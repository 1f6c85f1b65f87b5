// How fast this machine runs the engine: prefill and decode costs measured once by a probe of a
// few seconds on the default model, kept in the cache (calibration.json) per device, CPU model,
// thread count and native build, so that estimates never load a model again. Without a
// calibration the rates are rough constants.
import { cpus } from 'node:os';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../config/defaults.js';
import { writeFileAtomic } from '../core/files.js';
import { cacheDir, defaultModelName, findRegistryModel, isCached } from '../model/catalog.js';
import { loadModel } from '../model/model.js';
import { readGgufMetadata, type BuildInfo, type GgufInfo } from '../native/addon.js';
import type { Device } from './device.js';

/** The costs the estimates are made of (seconds). */
export interface Rates {
  /** Seconds per prefilled token when P tokens are prefilled: a + b * P (attention grows with P). */
  prefill: { a: number; b: number };
  /** Seconds of one decode step at KV length n: c + d * n. */
  decode: { c: number; d: number };
  /** Seconds a worker takes to start and load the model. */
  workerStart: number;
  /** Seconds of a job beyond its prefill and decode steps (building the case, writing results). */
  perJob: number;
  /** Elements of the weights of the model the rates were measured on (other models scale by theirs). */
  modelElements: number;
}

export interface Calibration extends Rates {
  key: string;
  measuredAt: string;
  model: string;
}

/** Rough rates for when nothing was measured: CPU ones of a 2-core x86-64 machine on the default
 *  model; CUDA ones a guess until measured. */
export const roughRates: Record<Device, Rates> = {
  cpu: { prefill: { a: 0.0022, b: 0 }, decode: { c: 0.04, d: 0 }, workerStart: 3, perJob: 0.2, modelElements: 0 },
  cuda: { prefill: { a: 0.0002, b: 0 }, decode: { c: 0.005, d: 0 }, workerStart: 5, perJob: 0.2, modelElements: 0 },
};

const addonPath = join(packageRoot, 'build', 'adamas_native.node');

/** What the rates depend on: device, CPU model, threads and the native build. */
export function calibrationKey(device: Device, info: BuildInfo | undefined, threads: number | undefined): string {
  const build = info ? `${info.version} ${info.compiler} ${info.simd}` : 'no addon';
  const stamp = existsSync(addonPath) ? statSync(addonPath).mtimeMs.toFixed(0) : '0';
  const cpu = cpus()[0]?.model.trim() ?? 'cpu';
  return `${device} | ${cpu} | threads ${threads ?? info?.threads ?? cpus().length} | ${build} @${stamp}`;
}

function storePath(cache?: string): string {
  return join(cacheDir(cache), 'calibration.json');
}

function readStore(cache?: string): Record<string, Calibration> {
  try {
    const data = JSON.parse(readFileSync(storePath(cache), 'utf8')) as { version?: number; entries?: Record<string, Calibration> };
    if (data.version === 1 && data.entries && typeof data.entries === 'object') return data.entries;
  } catch {
    // none yet, or unreadable: it is only a cache
  }
  return {};
}

export function cachedCalibration(key: string, cache?: string): Calibration | undefined {
  return readStore(cache)[key];
}

export function saveCalibration(c: Calibration, cache?: string): void {
  const entries = { ...readStore(cache), [c.key]: c };
  mkdirSync(cacheDir(cache), { recursive: true });
  writeFileAtomic(storePath(cache), `${JSON.stringify({ version: 1, entries }, null, 1)}\n`);
}

/** Elements of a model's weights, from its GGUF header. */
export function weightElements(info: GgufInfo): number {
  return info.tensors.reduce((sum, t) => sum + t.shape.reduce((p, d) => p * d, 1), 0);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Lengths of the probe: two prefills (and decode steps after each) give the linear costs and their growth. */
const PROBE = { short: 256, long: 1024, steps: 6 };

/**
 * Measures the rates of this machine with the default model (a few seconds): the model's load, a
 * short and a long prefill and decode steps after each. Undefined when the default model is not
 * cached (a probe never fetches it).
 */
export async function probeRates(key: string, opts: { cache?: string; threads?: number }): Promise<Calibration | undefined> {
  const entry = findRegistryModel(defaultModelName)!;
  if (!isCached(entry, opts.cache)) return undefined;
  const t0 = performance.now();
  const model = await loadModel(defaultModelName, { cache: opts.cache, threads: opts.threads });
  const workerStart = (performance.now() - t0) / 1000 + 0.5; // + node and the worker's modules
  const { engine, tokenizer } = model;
  const ids: number[] = [];
  for (let i = 0; ids.length < PROBE.long + PROBE.steps; i++) {
    const id = (i * 7919 + 101) % tokenizer.vocabSize;
    if (!tokenizer.isSpecial(id)) ids.push(id);
  }
  engine.setAttention({ method: 'full' });
  await engine.prefill(Int32Array.from(ids.slice(0, 32))); // warm-up
  const measure = async (length: number) => {
    engine.reset();
    let t = performance.now();
    await engine.prefill(Int32Array.from(ids.slice(0, length)));
    const prefill = (performance.now() - t) / 1000;
    const steps: number[] = [];
    for (let i = 0; i < PROBE.steps; i++) {
      t = performance.now();
      await engine.decode(ids[length + i]!);
      steps.push((performance.now() - t) / 1000);
    }
    return { perToken: prefill / length, step: median(steps) };
  };
  const short = await measure(PROBE.short);
  const long = await measure(PROBE.long);
  const span = PROBE.long - PROBE.short;
  let b = Math.max(0, (long.perToken - short.perToken) / span);
  let a = short.perToken - b * PROBE.short;
  if (a <= 0) [a, b] = [Math.min(short.perToken, long.perToken), 0];
  let d = Math.max(0, (long.step - short.step) / span);
  let c = short.step - d * PROBE.short;
  if (c <= 0) [c, d] = [Math.min(short.step, long.step), 0];
  return {
    key,
    measuredAt: new Date().toISOString(),
    model: defaultModelName,
    prefill: { a, b },
    decode: { c, d },
    workerStart,
    perJob: 0.1,
    modelElements: weightElements(readGgufMetadata(model.resolved.path)),
  };
}

export interface RatesChoice {
  rates: Rates;
  /** Where they come from, for the estimate's note. */
  source: 'calibrated' | 'measured now' | 'rough';
  note?: string;
}

/**
 * The rates for `device`: the cached calibration, else (when `probe` and the device is the CPU)
 * one measured now and cached, else the rough ones. Loads a model only to probe.
 */
export async function ratesFor(device: Device, info: BuildInfo | undefined,
  opts: { cache?: string; threads?: number; probe?: boolean; log?: (message: string) => void }): Promise<RatesChoice> {
  const key = calibrationKey(device, info, opts.threads);
  const cached = cachedCalibration(key, opts.cache);
  if (cached) return { rates: cached, source: 'calibrated', note: `rates of this machine measured ${cached.measuredAt.slice(0, 10)}` };
  if (!opts.probe || device !== 'cpu' || !info)
    return { rates: roughRates[device], source: 'rough', note: device === 'cpu' ? 'rough: this machine is not calibrated yet' : 'rough: CUDA rates are not measured' };
  opts.log?.('calibrating the estimate on this machine once (a few seconds on the default model)...');
  let measured: Calibration | undefined;
  try {
    measured = await probeRates(key, opts);
  } catch (err) {
    return { rates: roughRates[device], source: 'rough', note: `rough: the calibration failed (${(err as Error).message})` };
  }
  if (!measured) return { rates: roughRates[device], source: 'rough', note: 'rough: the default model is not cached, so this machine is not calibrated' };
  try {
    saveCalibration(measured, opts.cache);
  } catch {
    // not kept: measured again next time
  }
  return { rates: measured, source: 'measured now', note: 'rates of this machine, measured now' };
}
