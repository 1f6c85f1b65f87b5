// The floors of src/: a module may import modules of its own floor and of the floors below it,
// never of a floor above, and no import cycle may form. The order is written here once; a new
// folder under src/ has to be given its floor before the test passes.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/** Lowest first. */
const floors: readonly (readonly [folder: string, holds: string])[] = [
  ['native', "the addon's typed surface"],
  ['methods', 'the attention methods: method names, the knob table, method specs and their labels'],
  ['core', 'what every layer above shares: errors with exit codes and hints, the job model'],
  ['config', 'JSON Schemas, ajv validation, configs/ and suites/'],
  ['model', 'model files, the tokenizer, chat templates, the greedy decoding loop'],
  ['results', 'the run directory: tidy CSV, journal, meta.json, reading runs back'],
  ['stats', 'aggregation, intervals, tests, comparisons'],
  ['selftest', 'the checks of a build: each backend\'s layer attention and engine against its reference'],
  ['tasks', 'the task modules and the registry of them'],
  ['report', 'what a person reads: charts, index.html, terminal tables and progress'],
  ['runner', 'expand, plan, schedule over worker processes (and their wire protocol), the run pipeline'],
  ['worker', 'the worker process'],
  ['cli', 'the commands and the one error handler'],
];

/**
 * Upward edges still in the tree, each with the reason it is tolerated; the test fails when one
 * disappears, so that the exception goes with it.
 */
const knownUpwardEdges: readonly (readonly [from: string, to: string, why: string])[] = [
];

type Graph = Map<string, string[]>;

const srcDir = fileURLToPath(new URL('../src/', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);
}

/** The modules of `root` that `text` (module `module` of root) imports: statically, as types, by
 *  re-export or dynamically. Packages are left out. */
function importsOf(text: string, module: string, root: string): string[] {
  const targets = ts.preProcessFile(text, true, true).importedFiles
    .map((f) => f.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => relative(root, resolve(root, dirname(module), spec)).replace(/\.js$/, '.ts'));
  return [...new Set(targets)];
}

/** Module (path relative to src/) -> the modules of src/ it imports. */
function importGraph(root: string): Graph {
  const graph: Graph = new Map();
  for (const file of sourceFiles(root)) {
    const module = relative(root, file);
    graph.set(module, importsOf(readFileSync(file, 'utf8'), module, root));
  }
  return graph;
}

const floorOf = (module: string): number => floors.findIndex(([folder]) => module.startsWith(`${folder}/`));

function upwardEdges(graph: Graph): [string, string][] {
  const out: [string, string][] = [];
  for (const [from, targets] of graph) for (const to of targets) if (floorOf(to) > floorOf(from)) out.push([from, to]);
  return out;
}

/** One cycle per strongly connected group of modules, as the path that closes it. */
function cycles(graph: Graph): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (m: string) => {
    state.set(m, 'open');
    path.push(m);
    for (const t of graph.get(m) ?? []) {
      if (state.get(t) === 'open') found.push([...path.slice(path.indexOf(t)), t]);
      else if (!state.has(t)) visit(t);
    }
    path.pop();
    state.set(m, 'done');
  };
  for (const m of graph.keys()) if (!state.has(m)) visit(m);
  return found;
}

describe('layering of src/', () => {
  const graph = importGraph(srcDir);

  it('every module lives on a floor and every import names a module that exists', () => {
    expect([...graph.keys()].filter((m) => floorOf(m) < 0)).toEqual([]);
    const missing = [...graph].flatMap(([from, targets]) => targets.filter((t) => !graph.has(t)).map((t) => `${from} -> ${t}`));
    expect(missing).toEqual([]);
  });

  it('no import climbs to a higher floor', () => {
    const tolerated = new Set(knownUpwardEdges.map(([from, to]) => `${from} -> ${to}`));
    const edges = upwardEdges(graph).map(([from, to]) => `${from} -> ${to}`);
    expect(edges.filter((e) => !tolerated.has(e))).toEqual([]);
    expect([...tolerated].filter((e) => !edges.includes(e)), 'a tolerated edge is gone: drop it from knownUpwardEdges').toEqual([]);
  });

  it('no import cycle', () => {
    expect(cycles(graph).map((c) => c.join(' -> '))).toEqual([]);
  });

  it('the checks see what they are for', () => {
    const fake: Graph = new Map([
      ['cli/index.ts', ['core/job.ts']],
      ['core/job.ts', ['cli/index.ts', 'methods/spec.ts']],
      ['methods/spec.ts', ['native/addon.ts']],
      ['native/addon.ts', []],
    ]);
    expect(upwardEdges(fake)).toEqual([['core/job.ts', 'cli/index.ts']]);
    expect(cycles(fake)).toEqual([['cli/index.ts', 'core/job.ts', 'cli/index.ts']]);
    const text = [
      "import { a } from '../methods/spec.js';",
      "import type { B } from './errors.js';",
      "export { c } from '../cli/index.js';",
      "const d = await import('../native/addon.js');",
      "import { readFileSync } from 'node:fs';",
    ].join('\n');
    expect(importsOf(text, 'core/job.ts', srcDir)).toEqual(['methods/spec.ts', 'core/errors.ts', 'cli/index.ts', 'native/addon.ts']);
  });
});
