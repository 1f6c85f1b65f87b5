// adamas-bench selftest, the checks themselves: which backends to check (from the request and
// what this build and machine have), the layer attention selftest of the addon, then the engine
// checks on the default model when it is cached.
import { UsageError } from '../core/errors.js';
import { cachedState, findRegistryModel } from '../model/catalog.js';
import type { BuildInfo, NativeAddon, SelftestResult, SelftestRow } from '../native/addon.js';
import { engineChecks, type EngineFactory } from './engine-checks.js';
import { readGolden, type GoldenFixture } from './golden.js';

export type SelftestDevice = 'auto' | 'cpu' | 'cuda';

export interface SelftestRequest {
  device: SelftestDevice;
  seed?: number;
  /** The engine checks must run: a missing model or fixture fails the selftest. */
  requireEngine?: boolean;
  cacheDir?: string;
  threads?: number;
}

export interface SelftestReport {
  seed: number;
  /** Whether the CUDA checks ran, and why not. */
  cuda: { run: boolean; reason?: string; device?: string };
  layers: SelftestResult;
  engine: { run: boolean; reason?: string; model?: string; rows: SelftestRow[]; seconds: number };
  failures: number;
}

/** Whether the CUDA checks run: --device cuda insists (bad input when it cannot), auto takes CUDA
 *  where this build has it and sees a device. */
export function cudaChoice(device: SelftestDevice, info: BuildInfo): { cuda: boolean; reason?: string } {
  if (device === 'cpu') return { cuda: false, reason: 'not asked for (--device cpu)' };
  const why = !info.cuda.built
    ? 'this build has no CUDA backend (rebuild with nvcc on PATH or ADAMAS_CUDA=on)'
    : info.cuda.devices.length === 0 ? (info.cuda.error ?? 'no CUDA device is visible') : undefined;
  if (why === undefined) return { cuda: true };
  if (device === 'cuda') throw new UsageError(`--device cuda: ${why}`, 'run the CPU checks alone with --device cpu');
  return { cuda: false, reason: why };
}

export interface SelftestDeps {
  addon: NativeAddon;
  /** Engines on the default model (default: the addon's, on the cached file). */
  engines?: (modelPath: string) => EngineFactory;
  golden?: GoldenFixture;
}

/** Where the default model is, or why the engine checks cannot run. */
async function defaultModel(cacheDir: string | undefined): Promise<{ path?: string; reason?: string }> {
  const entry = findRegistryModel('default')!;
  const state = await cachedState(entry, cacheDir);
  if (state.state === 'ok') return { path: state.path };
  return { reason: `the default model is not cached (${state.state === 'missing' ? 'no file' : `the file is ${state.state}`} at ${state.path}): fetch it with 'adamas-bench models fetch'` };
}

export async function runSelftest(req: SelftestRequest, deps: SelftestDeps): Promise<SelftestReport> {
  const choice = cudaChoice(req.device, deps.addon.buildInfo());
  const layers = await deps.addon.selftest({ device: choice.cuda ? 'cuda' : 'cpu', ...(req.seed !== undefined && { seed: req.seed }) });
  const cuda = layers.cuda.run ? { run: true, ...(layers.cuda.reason && { reason: layers.cuda.reason }), ...(layers.cuda.device && { device: layers.cuda.device }) }
    : { run: false, reason: choice.reason ?? layers.cuda.reason ?? 'not run' };

  const t0 = performance.now();
  const golden = deps.golden ?? readGolden();
  const model = golden ? await defaultModel(req.cacheDir) : { reason: 'the golden fixture (test/fixtures/golden/) is not in this installation' };
  let engine: SelftestReport['engine'];
  if (model.path && golden) {
    const make: EngineFactory = deps.engines?.(model.path) ??
      ((device, weightType) => new deps.addon.Engine(model.path!, { device, ...(weightType && { weightType }), ...(req.threads !== undefined && { threads: req.threads }) }));
    const rows = await engineChecks(make, golden, { cuda: choice.cuda && cuda.run });
    engine = { run: true, model: model.path, rows, seconds: (performance.now() - t0) / 1000 };
  } else {
    const rows: SelftestRow[] = req.requireEngine
      ? [{ backend: 'cpu', against: 'transformers (golden)', check: 'engine', shape: '', method: '', value: Infinity, tolerance: 'runs', pass: false, note: model.reason }]
      : [];
    engine = { run: false, reason: model.reason, rows, seconds: 0 };
  }
  const failures = [...layers.rows, ...engine.rows].filter((r) => !r.pass).length;
  return { seed: layers.seed, cuda, layers, engine, failures };
}
