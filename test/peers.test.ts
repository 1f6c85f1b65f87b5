// The peers (scripts/peers/*.py) as the tasks run them, with a fake Python in a temporary
// directory that answers the torch probe and prints JSON lines as the peer scripts do: the lines are
// parsed into rows of method peer:<name>; whatever keeps a peer from running (no Python, no torch,
// a library that does not import, a script that fails, a CPU run, sequences of several lengths)
// is a skip row with the reason, never a failed job.
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../src/core/job.js';
import { makeSpec } from '../src/methods/spec.js';
import { parsePeerLines, peerScriptPath, runPeer, torchUnavailable } from '../src/tasks/common/peers.js';
import { runTorchPeer } from '../src/tasks/e2e/torch-peer.js';
import { attentionPeerRows, runAttentionPeer } from '../src/tasks/kernels/peers.js';
import type { RunContext } from '../src/tasks/types.js';

const dir = mkdtempSync(join(tmpdir(), 'peers-'));
const argsLog = join(dir, 'args.log');

/** A fake python: `-c` is the torch probe; otherwise argv[2] is the script and the rest its flags. */
function fakePython(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/usr/bin/env node
const fs = require('node:fs');
const argv = process.argv.slice(2);
if (argv[0] === '-c') { PROBE }
const script = require('node:path').basename(argv[0]);
const flags = {};
for (let i = 1; i < argv.length; i += 2) flags[argv[i].replace(/^--/, '')] = argv[i + 1];
fs.appendFileSync(${JSON.stringify(argsLog)}, JSON.stringify({ script, flags }) + '\\n');
const emit = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
${body}
`.replace('PROBE', name.startsWith('notorch') ? "process.stderr.write(\"Traceback (most recent call last):\\nModuleNotFoundError: No module named 'torch'\\n\"); process.exit(1);" : 'process.exit(0);'));
  chmodSync(path, 0o755);
  return path;
}

const attention = `
if (script === 'decode_attention.py') {
  const [H, KV, D] = flags.shapes.split('x').map(Number);
  const kase = { n_heads: H, n_kv_heads: KV, head_dim: D, kv_len: Number(flags['kv-lens']), batch: Number(flags.batch) };
  for (const peer of flags.peers.split(',')) {
    if (peer === 'flashinfer') emit({ peer, ...kase, skipped: 'flashinfer is not importable: ModuleNotFoundError: No module named flashinfer' });
    else { process.stdout.write('not json\\n'); emit({ peer, ...kase, max_rel_err: 0.0003, cold_us: [50, 52, 51], hot_us: [40, 41], timed_out: false,
      rule: { hot_count: Number(flags['hot-count']) }, device: 'Fake GPU', torch: '9.9' }); }
  }
}
if (script === 'llama_decode.py') {
  const n = Number(flags['context-lens']);
  emit({ peer: 'torch', model: flags.model, context_len: n, prefill_s: 1.5, device: 'Fake GPU', torch: '9.9' });
  emit({ peer: 'torch', model: flags.model, context_len: n, decode_ms: [8, 9, 10], bytes_per_token: 3e10, floor_ms: 7.2, copy_gbs: 4100, device: 'Fake GPU', torch: '9.9' });
}`;

let python: string;
let before: string | undefined;

beforeAll(() => {
  python = fakePython('python', attention);
  before = process.env.ADAMAS_BENCH_PYTHON;
  process.env.ADAMAS_BENCH_PYTHON = python;
});

afterAll(() => {
  if (before === undefined) delete process.env.ADAMAS_BENCH_PYTHON;
  else process.env.ADAMAS_BENCH_PYTHON = before;
});

function lastArgs(): { script: string; flags: Record<string, string> } {
  return JSON.parse(readFileSync(argsLog, 'utf8').trim().split('\n').at(-1)!) as { script: string; flags: Record<string, string> };
}

function context(device: 'cpu' | 'cuda') {
  const logs: string[] = [];
  const facts: Record<string, unknown> = {};
  const ctx = { device, log: (m: string) => logs.push(m), recordFacts: (f: Record<string, unknown>) => Object.assign(facts, f) } as unknown as RunContext;
  return { ctx, logs, facts };
}

function kernelsJob(peer: string, params: Record<string, string | number> = {}): Job {
  return { id: 'k', suite: 's', task: 'kernels', dataset: 'llama3-8b', model: 'shape:llama3-8b', method: makeSpec('full', undefined), contextLen: 32768,
    params: { nHeads: 32, nKvHeads: 8, headDim: 128, batch: 4, seqLens: '32768/32768/32768/32768', hotRuns: 10, minSamples: 10, minTime: 0.5,
      maxNoise: 0.02, timeout: 5, ...params }, prefixKey: '', seed: 42, peer };
}

describe('the peer scripts\' output', () => {
  it('is one JSON object a line; anything else is left out', () => {
    expect(parsePeerLines('{"peer": "sdpa", "kv_len": 8}\nwarning: x\n[1, 2]\n{"torn": \n  {"peer": "flashinfer"}  \n')).toEqual([
      { peer: 'sdpa', kv_len: 8 }, { peer: 'flashinfer' },
    ]);
  });

  it('the scripts are where the tasks look for them', () => {
    expect(readFileSync(peerScriptPath('decode_attention.py'), 'utf8')).toContain('"peer": "sdpa"');
    expect(readFileSync(peerScriptPath('llama_decode.py'), 'utf8')).toContain('"decode_ms"');
  });
});

describe('what keeps a peer from running is the reason of a skip row', () => {
  it('no Python', async () => {
    expect(await torchUnavailable(join(dir, 'no-such-python'))).toMatch(/no-such-python was not found \(set ADAMAS_BENCH_PYTHON/);
  });

  it('no torch', async () => {
    const why = await torchUnavailable(fakePython('notorch-python', ''));
    expect(why).toContain('import torch; assert torch.cuda.is_available()');
    expect(why).toContain("ModuleNotFoundError: No module named 'torch'");
    const out = await runPeer('decode_attention.py', [], { python: join(dir, 'notorch-python') });
    expect(out).toEqual({ ok: false, skipped: why });
  });

  it('a script that fails before printing anything', async () => {
    const crash = fakePython('crash-python', "process.stderr.write('Traceback\\nRuntimeError: CUDA error: out of memory\\n'); process.exit(1);");
    expect(await runPeer('llama_decode.py', ['--model', 'llama2-7b'], { python: crash }))
      .toEqual({ ok: false, skipped: 'llama_decode.py failed (exit code 1): RuntimeError: CUDA error: out of memory' });
  });

  it('a script that fails after some lines keeps them', async () => {
    const partial = fakePython('partial-python', "emit({ peer: 'sdpa', kv_len: 1 }); process.exit(1);");
    expect(await runPeer('decode_attention.py', [], { python: partial })).toMatchObject({ ok: true, lines: [{ peer: 'sdpa', kv_len: 1 }] });
  });
});

describe('kernels --peers', () => {
  it('runs decode_attention.py at the job\'s shape, length, batch and stopping rule', async () => {
    const { ctx, facts } = context('cuda');
    const rows = await runAttentionPeer(kernelsJob('sdpa'), ctx);
    expect(lastArgs()).toEqual({ script: 'decode_attention.py', flags: {
      peers: 'sdpa', shapes: '32x8x128', 'kv-lens': '32768', batch: '4', 'min-samples': '10', 'min-time': '0.5', 'max-noise': '0.02',
      timeout: '5', 'hot-count': '10', seed: '42' } });
    expect(rows).toMatchObject([
      { metric: 'latency_us.total', value: 51, unit: 'us', n: 3, samples: [50, 52, 51] },
      { metric: 'latency_hot_us.total', value: 40.5, unit: 'us', n: 2 },
    ]);
    expect(rows[0].detail).toContain('max relative error 0.00030 against fp32 attention');
    expect(rows[1].detail).toContain('10 calls back to back');
    expect(facts['peer:sdpa']).toMatchObject({ torch: '9.9', device: 'Fake GPU' });
  });

  it('a library that does not import is a skip row with its reason', async () => {
    const { ctx, logs } = context('cuda');
    expect(await runAttentionPeer(kernelsJob('flashinfer'), ctx)).toEqual([
      { metric: 'skipped', value: 1, unit: '', n: 1, detail: 'flashinfer is not importable: ModuleNotFoundError: No module named flashinfer' },
    ]);
    expect(logs[0]).toContain('peer:flashinfer skipped: flashinfer is not importable');
  });

  it('on the CPU, or with sequences of several lengths, nothing runs: a skip row', async () => {
    const calls = readFileSync(argsLog, 'utf8').split('\n').length;
    expect((await runAttentionPeer(kernelsJob('sdpa'), context('cpu').ctx))[0].detail).toBe('peer:sdpa runs on CUDA only; this run is on the CPU');
    expect((await runAttentionPeer(kernelsJob('sdpa', { seqLens: '32768/24576/16384/8192' }), context('cuda').ctx))[0].detail)
      .toMatch(/decode_attention.py times sequences of one length; this case's are 32768\/24576\/16384\/8192/);
    expect(readFileSync(argsLog, 'utf8').split('\n').length).toBe(calls);
  });

  it('a line that is not this case\'s, or no line at all, is a skip row', () => {
    const c = { peer: 'sdpa', nHeads: 32, nKvHeads: 8, headDim: 128, kvLen: 8192, batch: 1 };
    const other = { peer: 'sdpa', n_heads: 32, n_kv_heads: 8, head_dim: 128, kv_len: 16384, batch: 1, cold_us: [1] };
    expect(attentionPeerRows([other], c)[0]).toMatchObject({ metric: 'skipped', detail: expect.stringContaining('printed nothing for sdpa at 32x8x128, kv_len 8192, batch 1') });
    expect(attentionPeerRows([{ peer: 'sdpa', skipped: 'torch sees no CUDA device' }], c)[0].detail).toBe('torch sees no CUDA device');
  });
});

describe('e2e --peers torch', () => {
  it('runs llama_decode.py on the preset\'s shape at the job\'s length and steps', async () => {
    const { ctx, facts } = context('cuda');
    const job: Job = { id: 'e', suite: 's', task: 'e2e', dataset: '', model: 'synthetic:llama3-8b', method: makeSpec('full', undefined),
      contextLen: 32768, params: { decode: 64, warmup: 8 }, prefixKey: '', seed: 3, peer: 'torch' };
    const rows = await runTorchPeer(job, ctx);
    expect(lastArgs()).toEqual({ script: 'llama_decode.py', flags: { model: 'llama3-8b', 'context-lens': '32768', steps: '64', prefill: '32768', seed: '3' } });
    const by = Object.fromEntries(rows.map((r) => [r.metric, r]));
    expect(by.decode_ms_per_token.value).toBe(9);
    expect(by.prefill_s.value).toBe(1.5);
    expect(by.floor_ratio.value).toBe(0.8);
    expect(facts['peer:torch']).toEqual({ torch: '9.9', device: 'Fake GPU' });
  });
});
