#!/usr/bin/env node
// Builds the native addon and the native test program with cmake-js into build/.
// Environment: ADAMAS_CUDA=auto|on|off (default auto: CUDA sources are compiled when nvcc is found),
// ADAMAS_CPU_ARCH (value for -march; default x86-64-v3 on CPUs with AVX2 and FMA, else the
// compiler default), ADAMAS_CUDA_ARCHITECTURES (default "80;86;89;90"), ADAMAS_CUBLAS_ROOT (a cuBLAS outside
// the toolkit for the CUDA engine: the directory holding include/cublasLt.h and lib/libcublasLt.so*),
// ADAMAS_BUILD_TYPE (Release|Debug|RelWithDebInfo).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function fail(message) {
  console.error(`\nadamas-bench: cannot build the native addon: ${message}`);
  process.exit(1);
}

function onPath(cmd, args = ['--version']) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0] : null;
}

const cmake = onPath('cmake');
if (!cmake) fail('cmake was not found on PATH (need cmake >= 3.18; Debian/Ubuntu: apt-get install cmake).');
const cxx = process.env.CXX ?? 'c++';
if (!onPath(cxx)) fail(`no C++17 compiler: '${cxx}' was not found (Debian/Ubuntu: apt-get install g++; or set CXX).`);

const cudaMode = (process.env.ADAMAS_CUDA ?? 'auto').toLowerCase();
if (!['auto', 'on', 'off'].includes(cudaMode)) fail(`ADAMAS_CUDA must be auto, on or off (got '${process.env.ADAMAS_CUDA}').`);

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const defines = {
  ADAMAS_CUDA: cudaMode.toUpperCase(),
  ADAMAS_PACKAGE_VERSION: pkg.version,
  ...(process.env.ADAMAS_CPU_ARCH !== undefined && { ADAMAS_CPU_ARCH: process.env.ADAMAS_CPU_ARCH }),
  ...(process.env.ADAMAS_CUDA_ARCHITECTURES && { ADAMAS_CUDA_ARCHITECTURES: process.env.ADAMAS_CUDA_ARCHITECTURES }),
  ...(process.env.ADAMAS_CUBLAS_ROOT && { ADAMAS_CUBLAS_ROOT: process.env.ADAMAS_CUBLAS_ROOT }),
};
const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const args = [cmakeJs, 'compile', '--out', 'build', '--parallel', String(availableParallelism())];
if (process.env.ADAMAS_BUILD_TYPE) args.push('--config', process.env.ADAMAS_BUILD_TYPE);
for (const [k, v] of Object.entries(defines)) args.push(`--CD${k}=${v}`);

console.error(`adamas-bench: building native code (${cmake}; CUDA ${cudaMode})`);
const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: new URL('..', import.meta.url) });
if (r.status !== 0) fail('the CMake build failed (see the compiler output above). Set ADAMAS_CUDA=off to skip the CUDA sources.');
