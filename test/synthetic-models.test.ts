// Synthetic models ('synthetic:<preset>'): their shapes come from the addon's presets; the timing
// tasks take them, the text tasks and generate refuse them at planning; the preflight, the worker
// and meta.json handle a model without a file (no digest, no tokenizer). On the CPU engine here
// (the small preset): the GPU runs the same path with {device: 'cuda'}.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Suite } from '../src/config/suite.js';
import { resolveModel } from '../src/model/catalog.js';
import { syntheticModelFacts } from '../src/model/model-facts.js';
import { loadModel } from '../src/model/model.js';
import { isSyntheticModel, syntheticModel, syntheticModels } from '../src/model/synthetic.js';
import { readMeta } from '../src/results/meta.js';
import { readRun } from '../src/results/read.js';
import { expandSuite } from '../src/runner/expand.js';
import { taskModules } from '../src/tasks/builtin.js';
import type { TaskRegistry } from '../src/tasks/task-registry.js';
import { bin, ensureBuilt } from './helpers/build.js';

const registry = taskModules as TaskRegistry;

beforeAll(async () => {
  await ensureBuilt();
});

describe('the presets', () => {
  it('are the addon\'s, with their shapes and parameter counts', () => {
    const names = syntheticModels().map((m) => m.name);
    expect(names).toEqual(['synthetic:llama2-7b', 'synthetic:llama3-8b', 'synthetic:smollm2-135m']);
    const l2 = syntheticModel('synthetic:llama2-7b');
    expect(l2.config).toMatchObject({ nLayers: 32, nHeads: 32, nKvHeads: 32, headDim: 128, dModel: 4096, dFf: 11008, vocabSize: 32000 });
    // Llama-2-7B: 6.74 billion parameters
    expect(l2.parameters).toBe(6_738_415_616);
    expect(syntheticModelFacts(syntheticModel('synthetic:llama3-8b'))).toEqual({
      path: 'synthetic:llama3-8b', arch: 'llama', layers: 32, headDim: 128, kvHeads: 8, parameters: 8_030_261_248, contextLength: 131072, unsupportedTypes: [],
    });
  });

  it('an unknown preset is bad input naming the presets; a synthetic model has no file to resolve', async () => {
    expect(isSyntheticModel('synthetic:x')).toBe(true);
    expect(isSyntheticModel('default')).toBe(false);
    expect(() => syntheticModel('synthetic:llama9')).toThrow("unknown synthetic model 'synthetic:llama9'");
    await expect(resolveModel('synthetic:llama2-7b')).rejects.toThrow('is a synthetic model: the engine makes its random weights');
  });
});

describe('planning refuses them for the tasks that need text', () => {
  const suite = (task: string, model: string): Suite => ({ name: 's', model, methods: ['full'], tasks: [{ task: task as 'passkey' }] });

  for (const task of ['passkey', 'ppl', 'longbench', 'ruler'] as const) {
    it(task, () => {
      expect(() => expandSuite(suite(task, 'synthetic:llama2-7b'), registry, 'cuda', 'the suite')).toThrow(
        `the ${task} task needs a model with a tokenizer and trained weights; 'synthetic:llama2-7b' has random weights and no tokenizer`);
    });
  }

  it('e2e and kernels take them', () => {
    for (const task of ['e2e', 'kernels'])
      expect(expandSuite(suite(task, 'synthetic:llama3-8b'), registry, 'cuda', 'the suite')[0].model).toBe('synthetic:llama3-8b');
  });
});

describe('loading one', () => {
  it('is an engine of the preset\'s shape, without a tokenizer', async () => {
    const m = await loadModel('synthetic:smollm2-135m', { threads: 2, device: 'cpu' });
    expect(m.synthetic).toBe(true);
    expect(m.resolved.path).toBe('synthetic:smollm2-135m');
    expect(m.engine.backend).toBe('cpu');
    expect(m.config).toEqual(syntheticModel('synthetic:smollm2-135m').config);
    expect(() => m.tokenizer).toThrow("'synthetic:smollm2-135m' has random weights and no tokenizer");
    expect(m.weights).toBeUndefined();
  }, 60_000);

  it('on the CPU leaves a weight type out (the CPU engine holds float32; the type is the CUDA engine\'s)', async () => {
    const m = await loadModel('synthetic:smollm2-135m', { threads: 2, device: 'cpu', weights: 'f32' });
    expect(m.engine.backend).toBe('cpu');
    expect(m.weights).toBeUndefined();
  }, 60_000);

  it('--kv-cache f16 on the CPU: logits a little off f32\'s (fp16-rounded K and V), f32 named is the default; the engine refuses what a backend does not take', async () => {
    const tokens = Int32Array.from({ length: 48 }, (_, i) => (i * 7919) % 4096);
    const logits = async (kvCache?: 'f32' | 'f16') => {
      const m = await loadModel('synthetic:smollm2-135m', { threads: 2, device: 'cpu', ...(kvCache && { kvCache }) });
      const first = (await m.engine.prefill(tokens, { logits: true })).logits;
      const step = (await m.engine.decode(5, { logits: true })).logits;
      return [...first, ...step];
    };
    const [own, f32, f16] = [await logits(), await logits('f32'), await logits('f16')];
    expect(f32).toEqual(own);
    const diff = Math.max(...own.map((x, i) => Math.abs(x - f16[i])));
    const scale = Math.max(...own.map(Math.abs));
    expect(diff).toBeGreaterThan(0);
    expect(diff).toBeLessThan(1e-2 * scale);
    await expect(loadModel('synthetic:smollm2-135m', { threads: 2, device: 'cpu', kvCache: 'f8' as 'f16' })).rejects.toThrow("kv_type 'f8' is unknown (choices: f32, f16)");
    // refused before any device is touched: the same answer in a build without CUDA
    await expect(loadModel('synthetic:smollm2-135m', { threads: 2, device: 'cuda', kvCache: 'f32' })).rejects.toThrow("kv_type 'f32' is not supported by the CUDA engine");
  }, 120_000);
});

describe('the command line', () => {
  const cli = (args: string[]) => execa(process.execPath, [bin, ...args], {
    reject: false, timeout: 120_000, cwd: mkdtempSync(join(tmpdir(), 'synth-')),
    env: { FORCE_COLOR: '0', ADAMAS_BENCH_CACHE: mkdtempSync(join(tmpdir(), 'cache-')), ADAMAS_BENCH_DATA: '' },
  });

  it('e2e runs a synthetic model end to end: no digest, the shape in meta.json', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'synth-run-')), 'run');
    const r = await cli(['e2e', '--model', 'synthetic:smollm2-135m', '--device', 'cpu', '--context-lens', '64', '--decode-tokens', '2',
      '--warmup-tokens', '0', '--methods', 'full', '--threads', '2', '--out', out]);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const meta = readMeta(out);
    expect(meta.models['synthetic:smollm2-135m']).toMatchObject({ path: 'synthetic:smollm2-135m', config: { nLayers: 30, nKvHeads: 3 } });
    expect(meta.models['synthetic:smollm2-135m'].sha256).toBeUndefined();
    const rows = readRun(out).rows;
    expect(new Set(rows.map((x) => x.model))).toEqual(new Set(['synthetic:smollm2-135m']));
    expect(rows.map((x) => x.metric)).toContain('decode_ms_per_token');
    expect(meta.options.kvCache).toBeUndefined();
  }, 120_000);

  it('--kv-cache f16 on the CPU is in meta.json; a resume with another type is refused naming both', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'synth-kv-')), 'run');
    const args = ['e2e', '--model', 'synthetic:smollm2-135m', '--device', 'cpu', '--context-lens', '64', '--decode-tokens', '2',
      '--warmup-tokens', '0', '--methods', 'full', '--threads', '2', '--out', out];
    const r = await cli([...args, '--kv-cache', 'f16']);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(readMeta(out).options.kvCache).toBe('f16');
    const again = await cli([...args, '--resume']);
    expect(again.exitCode).toBe(2);
    expect(String(again.stderr)).toContain(`${out} was run with --kv-cache f16, not f32`);
  }, 120_000);

  it('generate and the text tasks refuse one before anything runs', async () => {
    const g = await cli(['generate', '--model', 'synthetic:llama2-7b', '--prompt', 'x']);
    expect(g.exitCode).toBe(2);
    expect(String(g.stderr)).toContain('--model synthetic:llama2-7b: generate needs a model with a tokenizer');
    const p = await cli(['passkey', '--model', 'synthetic:llama2-7b', '--budget', '64', '--dry-run']);
    expect(p.exitCode).toBe(2);
    expect(String(p.stderr)).toContain('the passkey task needs a model with a tokenizer');
  });
});
