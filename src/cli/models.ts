// adamas-bench models: list the registry and the cache, fetch a model, show a GGUF file's facts.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { UsageError } from '../core/errors.js';
import { cacheDir, cachedState, describeCachedState, fetchModel, findRegistryModel, modelsDir, registry, resolveModel, type CachedState } from '../model/catalog.js';
import { engineRefusals, modelFacts } from '../model/model-facts.js';
import { syntheticModels } from '../model/synthetic.js';
import { readGgufMetadata } from '../native/addon.js';

interface CacheFlags {
  cacheDir?: string;
  json?: boolean;
}

export interface ModelListing {
  cacheDir: string;
  models: {
    name: string; file: string; path: string; bytes: number; description: string;
    /** Whether the cache holds the file with its pinned sha256. */
    cached: boolean;
    state: CachedState['state'];
    /** Why the cached file is not usable ('corrupt: sha256 ...'), when it is there but wrong. */
    problem?: string;
  }[];
  otherFiles: { path: string; bytes: number }[];
  /** The synthetic presets (random weights of a real shape, made by the engine; for e2e and kernels). */
  synthetic: { name: string; layers: number; heads: number; kvHeads: number; headDim: number; parameters: number }[];
}

function syntheticListing(): ModelListing['synthetic'] {
  try {
    return syntheticModels().map((m) => ({ name: m.name, layers: m.config.nLayers, heads: m.config.nHeads, kvHeads: m.config.nKvHeads,
      headDim: m.config.headDim, parameters: m.parameters }));
  } catch {
    return []; // no addon: doctor says so
  }
}

/** The registry and what the cache holds of it; a cached file is hashed (once, then remembered). */
export async function collectModels(cache?: string): Promise<ModelListing> {
  const dir = modelsDir(cache);
  const known = new Set(registry.map((m) => m.file));
  const otherFiles = existsSync(dir)
    ? readdirSync(dir).filter((f) => f.endsWith('.gguf') && !known.has(f))
        .map((f) => ({ path: join(dir, f), bytes: statSync(join(dir, f)).size }))
    : [];
  return {
    cacheDir: cacheDir(cache),
    models: await Promise.all(registry.map(async (m) => {
      const s = await cachedState(m, cache);
      const broken = s.state === 'wrong-size' || s.state === 'corrupt';
      return {
        name: m.name, file: m.file, path: s.path, bytes: m.bytes, description: m.description, cached: s.state === 'ok', state: s.state,
        ...(broken && { problem: describeCachedState(m, s) }),
      };
    })),
    otherFiles,
    synthetic: syntheticListing(),
  };
}

function printModels(l: ModelListing): void {
  console.log(`cache: ${l.cacheDir}`);
  for (const m of l.models)
    console.log(`${m.cached ? '*' : ' '} ${m.name}${m.name === registry[0]?.name ? ' (default)' : ''}  ${(m.bytes / 1e6).toFixed(1)} MB  ` +
      `${m.cached ? m.path : m.problem ? `${m.problem}: adamas-bench models fetch replaces it` : 'not cached: adamas-bench models fetch'}\n    ${m.description}`);
  for (const f of l.otherFiles) console.log(`  ${f.path}  ${(f.bytes / 1e6).toFixed(1)} MB`);
  if (l.synthetic.length) console.log('synthetic models (seeded random weights of a real shape, no file; for e2e and kernels):');
  for (const m of l.synthetic)
    console.log(`  ${m.name}  ${m.layers} layers, ${m.heads}/${m.kvHeads} heads x ${m.headDim}, ${(m.parameters / 1e9).toFixed(2)}B parameters`);
}

export function modelsCommand(): Command {
  const models = new Command('models').description('list, fetch and inspect models');
  models.command('list', { isDefault: true })
    .description('registry models and what the cache holds (* = cached)')
    .option('--cache-dir <dir>', 'model cache (env ADAMAS_BENCH_CACHE)')
    .option('--json', 'print JSON', false)
    .action(async (flags: CacheFlags) => {
      const listing = await collectModels(flags.cacheDir);
      if (flags.json) console.log(JSON.stringify(listing, null, 2));
      else printModels(listing);
    });
  models.command('fetch')
    .description('download a registry model into the cache (once; later calls check its sha256 and replace a corrupt file)')
    .argument('[name]', 'registry name', 'default')
    .option('--cache-dir <dir>', 'model cache (env ADAMAS_BENCH_CACHE)')
    .action(async (name: string, flags: CacheFlags) => {
      const entry = findRegistryModel(name);
      if (!entry) throw new UsageError(`unknown model '${name}'`, `known: default, ${registry.map((m) => m.name).join(', ')}`);
      console.log(await fetchModel(entry, { cache: flags.cacheDir }));
    });
  models.command('info')
    .description("a model's architecture, tokenizer and tensor types, from its GGUF header")
    .argument('[model]', "'default', a registry name or a GGUF path", 'default')
    .option('--cache-dir <dir>', 'model cache (env ADAMAS_BENCH_CACHE)')
    .option('--json', 'print JSON', false)
    .action(async (spec: string, flags: CacheFlags) => {
      const { path } = await resolveModel(spec, { cache: flags.cacheDir });
      const info = readGgufMetadata(path);
      const types: Record<string, number> = {};
      for (const t of info.tensors) types[t.type] = (types[t.type] ?? 0) + 1;
      const scalars = Object.fromEntries(Object.entries(info.metadata).filter(([, v]) => !Array.isArray(v) && (typeof v !== 'string' || v.length < 200)));
      // what would stop the engine from loading the file, on stderr (the data stays on stdout)
      const engineProblems = engineRefusals(modelFacts(info));
      for (const p of engineProblems) process.stderr.write(`warning: ${p}\n`);
      const summary = { path, version: info.version, fileSize: info.fileSize, tensors: info.tensors.length, tensorTypes: types, engineProblems, metadata: scalars };
      if (flags.json) console.log(JSON.stringify(summary, null, 2));
      else {
        console.log(`${path}\nGGUF v${info.version}, ${(info.fileSize / 1e6).toFixed(1)} MB, ${info.tensors.length} tensors (${Object.entries(types).map(([t, n]) => `${n} ${t}`).join(', ')})`);
        for (const [k, v] of Object.entries(scalars)) console.log(`  ${k} = ${String(v)}`);
      }
    });
  models.addHelpText('after', `
Examples:
  $ adamas-bench models                 # what is cached
  $ adamas-bench models fetch           # get the default SmolLM2-135M-Instruct (Q4_1) once
  $ adamas-bench models info ./my-model.gguf`);
  return models;
}
