// The built CLI (bin/adamas-bench) through execa, with the fake task registry: bad input exits 2
// with a clear message and writes nothing; --help of every command has examples; a run, an
// ablation, Ctrl-C and resume behave as documented. One test runs the real default model when
// the real passkey task is built and the model is cached.
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type Options } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { isCached, registry as models } from '../src/model/catalog.js';
import { readMeta } from '../src/results/meta.js';
import { readRun } from '../src/results/read.js';
import { bin, ensureBuilt, fakeRegistry, root } from './helpers/build.js';
import { taskNames } from '../src/core/job.js';

let cwd: string;
const emptyCache = mkdtempSync(join(tmpdir(), 'cache-'));

beforeAll(async () => {
  await ensureBuilt();
  cwd = mkdtempSync(join(tmpdir(), 'cli-'));
});

function cli(args: string[], opts: { env?: Record<string, string>; fake?: boolean } & Options = {}) {
  const { env = {}, fake = true, ...rest } = opts;
  return execa(process.execPath, [bin, ...args], {
    cwd,
    reject: false,
    timeout: 60_000,
    env: {
      FORCE_COLOR: '0',
      ADAMAS_BENCH_CACHE: emptyCache,
      ADAMAS_BENCH_DATA: '',
      ...(fake && { ADAMAS_BENCH_TASK_REGISTRY: fakeRegistry }),
      ...env,
    },
    ...rest,
  });
}

async function expectUsage(args: string[], message: string | RegExp, env: Record<string, string> = {}, fake = true) {
  const r = await cli(args, { env, fake });
  expect(r.exitCode, `${args.join(' ')}\n${String(r.stderr)}`).toBe(2);
  if (typeof message === 'string') expect(String(r.stderr)).toContain(message);
  else expect(String(r.stderr)).toMatch(message);
  expect(String(r.stdout)).toBe('');
  expect(existsSync(join(cwd, 'results')), 'nothing half-written').toBe(false);
}

describe('bad input: exit code 2, a clear message, nothing written', () => {
  it('an unknown method', () => expectUsage(['passkey', '--methods', 'full,magic'], "unknown value 'magic' (expected full, streaming, quest, adamas, oracle)"));
  it('an unknown flag', () => expectUsage(['passkey', '--frobnicate'], "unknown option '--frobnicate'"));
  it('a budget that is not a positive integer', async () => {
    await expectUsage(['passkey', '--budgets', '64,1.5'], "'1.5' is not a positive integer");
    await expectUsage(['passkey', '--budget', '0'], 'must be a positive integer');
    await expectUsage(['passkey', '--budget', 'abc'], 'must be a positive integer');
  });
  it('an empty list', async () => {
    await expectUsage(['passkey', '--budgets', ','], 'must not be empty');
    await expectUsage(['passkey', '--methods', ''], 'must not be empty');
    await expectUsage(['passkey', '--lengths', ''], 'must not be empty');
  });
  it('a length below the budget, naming both', () =>
    expectUsage(['passkey', '--lengths', '1024', '--budgets', '256,2048'], 'passkey: length 1024 is below budget 2048'));
  it('a task option the schema refuses', () => expectUsage(['passkey', '--lengths', '32'], "/lengths/0: must be >= 64 (rule 'minimum')"));
  it('a missing data path (flag and environment)', async () => {
    await expectUsage(['passkey', '--data-dir', join(cwd, 'no-data')], /data directory '.*no-data' \(--data-dir\) does not exist/);
    await expectUsage(['passkey', '--dry-run'], '(ADAMAS_BENCH_DATA) does not exist', { ADAMAS_BENCH_DATA: join(cwd, 'nope') });
  });
  it('an invalid suite, quoting the JSON path and the rule', async () => {
    const p = join(cwd, 'bad-suite.json');
    writeFileSync(p, JSON.stringify({ name: 'bad', budgets: [64, -1], tasks: [{ task: 'passkey', lengths: [16] }] }));
    await expectUsage(['run', p], `${p} is invalid:\n  /budgets/1: must be >= 1 (rule 'minimum')`);
    writeFileSync(p, JSON.stringify({ name: 'bad', tasks: [{ task: 'passkey', lengths: [16] }] }));
    await expectUsage(['run', p], "/tasks/0/lengths/0: must be >= 64 (rule 'minimum')");
    await expectUsage(['run', 'no-such-suite'], "suite 'no-such-suite' is neither a file nor one of the package's suites");
  });
  it('--device cuda for a task that loads the model, on a build without the CUDA engine', () =>
    cli(['passkey', '--device', 'cuda', '--budget', '64'], { fake: false }).then((r) => {
      expect(r.exitCode).toBe(2);
      // this machine's build: without nvcc, or with the kernels but no cuBLAS for the engine
      expect(String(r.stderr)).toMatch(/the addon was built without CUDA .*use --device cpu|without the CUDA engine, which needs cuBLAS .*use --device cpu/);
    }));
  it('--devices on a run that goes to the CPU', () =>
    // the reason depends on this machine's build and driver (no CUDA, no cuBLAS, no driver)
    expectUsage(['passkey', '--devices', '0,1'], /--devices 0,1 is for runs on CUDA, and this one is on the CPU: \S.*use --device cpu/));
  it('--weights on a run that goes to the CPU, on one that loads no model, and a type it does not know', async () => {
    await expectUsage(['passkey', '--device', 'cpu', '--weights', 'f32'], "--weights is for the CUDA engine (--device cuda or auto)");
    // the real registry: passkey loads the model, the kernels do not (the fake tasks load nothing)
    await expectUsage(['passkey', '--weights', 'bf16'], /--weights bf16 is for runs on CUDA, and this one is on the CPU: \S.*use --device cpu/, {}, false);
    await expectUsage(['kernels', '--weights', 'f32'], '--weights f32: no job of this run loads a model', {}, false);
    await expectUsage(['passkey', '--weights', 'f8'], "option '--weights <type>' argument 'f8' is invalid. Allowed choices are f16, bf16, f32.");
  });
  it('--kv-cache f32 on a run that goes to CUDA, --kv-cache on one that loads no model, and a type it does not know', async () => {
    await expectUsage(['passkey', '--device', 'cuda', '--kv-cache', 'f32'],
      "--kv-cache f32 is for the CPU engine (--device cpu or auto): the CUDA engine's attention kernels read an fp16 KV cache");
    await expectUsage(['ablate', '--no-hadamard', '--device', 'cuda', '--kv-cache', 'f32'], '--kv-cache f32 is for the CPU engine');
    await expectUsage(['kernels', '--kv-cache', 'f16'], '--kv-cache f16: no job of this run loads a model', {}, false);
    await expectUsage(['passkey', '--kv-cache', 'bf16'], "option '--kv-cache <type>' argument 'bf16' is invalid. Allowed choices are f32, f16.");
    await expectUsage(['generate', '-p', 'hi', '--kv-cache', 'f8'], "option '--kv-cache <type>' argument 'f8' is invalid. Allowed choices are f32, f16.");
  });
  it('--device cuda where no GPU is visible', () =>
    expectUsage(['passkey', '--device', 'cuda'], 'use --device cpu', { CUDA_VISIBLE_DEVICES: '' }));
  it('--budget with --budgets, and ablate without an ablation', async () => {
    await expectUsage(['passkey', '--budget', '64', '--budgets', '32'], 'give --budget or --budgets, not both');
    await expectUsage(['ablate', '--budget', '64'], 'ablate needs at least one ablation');
    await expectUsage(['ablate', '--distance', 'l1'], 'ablate needs at least one ablation');
  });
});

describe('help', () => {
  const commands = ['passkey', 'ppl', 'longbench', 'ruler', 'kernels', 'e2e', 'ablate', 'run', 'report', 'compare', 'agree', 'merge', 'models', 'generate', 'doctor', 'selftest'];
  it('lists every command', async () => {
    const r = await cli(['--help']);
    expect(r.exitCode).toBe(0);
    for (const c of commands) expect(String(r.stdout)).toMatch(new RegExp(`\\n  ${c} `));
  });
  for (const c of commands) {
    it(`${c} --help has examples`, async () => {
      const r = await cli([c, '--help']);
      expect(r.exitCode).toBe(0);
      expect(String(r.stdout)).toContain('Examples');
    });
  }
  it('task commands carry the shared flags and their own', async () => {
    const r = String((await cli(['passkey', '--help'])).stdout);
    for (const f of ['--model', '--methods', '--budgets', '--budget', '--device', '--devices', '--out', '--seed', '--resume', '--shard', '--dry-run', '--data-dir', '--lengths', '--depths', '--trials', '--no-hadamard'])
      expect(r).toContain(f);
  });
});

describe('runs', () => {
  it('--dry-run prints the plan and its size, and writes nothing', async () => {
    const r = await cli(['passkey', '--budget', '64', '--dry-run', '--shard', '1/2']);
    expect(r.exitCode).toBe(0);
    expect(String(r.stdout)).toContain("plan: suite 'passkey', 8 jobs (of 16, shard 1/2), device cpu");
    expect(String(r.stdout)).toMatch(/adamas@64\s+\d\s+\d\s+\d/);
    expect(String(r.stdout)).toContain('estimated time:');
    expect(existsSync(join(cwd, 'results'))).toBe(false);
  });

  it('--dry-run --device cuda shows the GPU sweep on any machine', async () => {
    const r = await cli(['passkey', '--budget', '64', '--dry-run', '--device', 'cuda']);
    expect(r.exitCode).toBe(0);
    expect(String(r.stdout)).toContain("plan: suite 'passkey', 72 jobs, device cuda");
  });

  it('passkey --budget 64 runs and ends with a summary table on stdout', async () => {
    const r = await cli(['passkey', '--budget', '64']);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stdout)).toMatch(/^passkey: accuracy, mean \[95% Wilson interval\] and n\nmethod\s+len=256\s+len=512\n[- ]+\nfull\s/);
    const lines = String(r.stdout).split('\n').filter((l) => /^(full|streaming@64|quest@64|adamas@64)\s/.test(l));
    expect(lines).toHaveLength(4);
    // every cell: the mean, its interval and n (2 depths, one trial)
    for (const l of lines) expect(l).toMatch(/^\S+(\s+[\d.]+ \[[\d.]+, [\d.]+\] n=2){2}$/);
    expect(String(r.stderr)).toContain('[16/16] passkey adamas@64 len=512 depth=50 trial=0 ... ok');
    const runs = readdirSync(join(cwd, 'results', 'runs'));
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatch(/^passkey-\d{8}T\d{6}Z$/);
    const meta = readMeta(join(cwd, 'results', 'runs', runs[0]));
    expect(meta.commandLine).toBe('passkey --budget 64');
  });

  it('keeps in meta.json what the jobs found out about their device, per worker device', async () => {
    const out = join(cwd, 'facts');
    const r = await cli(['passkey', '--methods', 'full', '--lengths', '256,512', '--depths', '0', '--out', out], { env: { FAKE_TASK_FACTS: '1' } });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(readMeta(out).facts).toEqual({ cpu: { lastLength: 512, length256: true, length512: true } });
  });

  it('ablate runs Adamas with and without the ablation and reports the difference', async () => {
    const out = join(cwd, 'ablate');
    const r = await cli(['ablate', '--no-hadamard', '--budgets', '64,128', '--lengths', '256', '--depths', '0,50', '--trials', '1', '--out', out]);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const text = String(r.stdout);
    expect(text).toContain('passkey: accuracy of adamas[no-hadamard] against adamas on the same cases');
    const rows = readRun(out).rows.filter((x) => x.metric === 'accuracy');
    expect(new Set(rows.map((x) => x.label))).toEqual(new Set(['adamas@64', 'adamas@128', 'adamas[no-hadamard]@64', 'adamas[no-hadamard]@128']));
    const values = (label: string) => rows.filter((x) => x.label === label).sort((a, b) => Number(a.depth) - Number(b.depth)).map((x) => Number(x.value));
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    const line = text.split('\n').find((l) => /^64\s+256\s/.test(l))!;
    const m = /^64\s+256\s+([\d.]+) \[.*?\] n=2\s+([\d.]+) \[.*?\] n=2\s+(no|yes, lower|yes, higher)\s+([\d.]+)\s+(\S+) \[.*\], p = ([\d.e-]+) \(sign test; 2 pairs: (\d) higher, (\d) lower\)$/.exec(line);
    expect(m, line).not.toBeNull();
    const [base, ablated] = [values('adamas@64'), values('adamas[no-hadamard]@64')];
    expect(Number(m![1])).toBeCloseTo(mean(base), 2);
    expect(Number(m![2])).toBeCloseTo(mean(ablated), 2);
    expect(Number(m![5].replace('−', '-').replace('±', ''))).toBeCloseTo(mean(ablated) - mean(base), 1);
    expect(Number(m![7])).toBe(base.filter((v, i) => ablated[i] > v).length);
    expect(Number(m![8])).toBe(base.filter((v, i) => ablated[i] < v).length);
    expect(text).toContain('changed: Holm-adjusted p < 0.05 over the 2 tested cells');
    await expectUsageIn(['ablate', '--no-hadamard', '--task', 'ppl', '--depths', '50'], '--depths is not an option of the ppl task');
  });

  it('--threshold-jitter prints the decision stability under the summary; run takes it for the accuracy tasks only', async () => {
    const r = await cli(['passkey', '--budget', '64', '--methods', 'adamas', '--lengths', '256', '--depths', '0,1,2,3,4,5',
      '--threshold-jitter', '1e-5', '--out', join(cwd, 'jitter')]);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const text = String(r.stdout);
    expect(text).toContain('\n\npasskey: decision stability, every threshold moved by +E and by -E (E = 0.00001); an answer is what the task scores\n');
    // depths 0 and 3 change (the fake task's rule)
    expect(text).toMatch(/\n {2}adamas@64 len=256: 2 of 6 answers change under ±E; stability 0\.67 \[[\d.]+, [\d.]+\] n=6; accuracy at -E \/ 0 \/ \+E: 6\/6, 6\/6, 4\/6$/);

    const suite = join(cwd, 'jitter-suite.json');
    writeFileSync(suite, JSON.stringify({ name: 'jit', methods: ['adamas'], budgets: [64], tasks: [{ task: 'passkey', lengths: [256], depths: [0, 1] }, { task: 'ppl' }] }));
    const refused = await cli(['run', suite, '--threshold-jitter', '1e-5']);
    expect(refused.exitCode).toBe(2);
    expect(String(refused.stderr)).toContain('--threshold-jitter is an option of the accuracy tasks (passkey, ruler, longbench), not of ppl');
    expect(String(refused.stderr)).toContain('--tasks passkey');
    const ok = await cli(['run', suite, '--tasks', 'passkey', '--threshold-jitter', '1e-5', '--out', join(cwd, 'jitter-run')]);
    expect(ok.exitCode, String(ok.stderr)).toBe(0);
    expect(String(ok.stdout)).toContain('adamas@64 len=256: 1 of 2 answers change under ±E');
    expect(readRun(join(cwd, 'jitter-run')).rows.filter((x) => x.metric === 'stability').map((x) => x.case)).toEqual(['thresholdJitter=0.00001;trial=0', 'thresholdJitter=0.00001;trial=0']);
    await expectUsageIn(['run', suite, '--threshold-jitter', '0'], "'0' is not a positive number");
  });

  it('Ctrl-C keeps finished jobs, exits 130 and says how to resume; resume finishes', async () => {
    const out = join(cwd, 'interrupted');
    const child = cli(['passkey', '--budget', '64', '--out', out], { env: { FAKE_TASK_SLEEP_MS: '250' } });
    let err = '';
    await new Promise<void>((resolve) => {
      child.stderr?.on('data', (c: Buffer) => {
        err += c.toString();
        if (err.includes('[3/16]')) resolve();
      });
    });
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode).toBe(130);
    expect(String(r.stderr)).toContain(`resume with: adamas-bench run --resume ${out}`);
    const meta = readMeta(out);
    expect(meta.status).toBe('interrupted');
    const done = readRun(out).journal.length;
    expect(done).toBeGreaterThanOrEqual(3);
    expect(done).toBeLessThan(16);
    const again = await cli(['run', '--resume', out]);
    expect(again.exitCode, String(again.stderr)).toBe(0);
    expect(String(again.stderr)).toContain(`${done} of 16 jobs already done, ${16 - done} to run`);
    expect(readRun(out).journal).toHaveLength(16);
    expect(readMeta(out).status).toBe('completed');
  });

  it('shards run separately and merge into one run', async () => {
    const a = join(cwd, 'sh1');
    const b = join(cwd, 'sh2');
    for (const [i, dir] of [[1, a], [2, b]] as const)
      expect((await cli(['passkey', '--budget', '64', '--shard', `${i}/2`, '--out', dir])).exitCode).toBe(0);
    const merged = join(cwd, 'merged');
    const r = await cli(['merge', a, b, '--out', merged]);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stderr)).toContain(`merged 2 runs into ${merged}: 16 jobs, 16 ok, 0 failed, 0 not run`);
    expect(readRun(merged).rows).toHaveLength(32);
  });

  it('doctor --json reports the machine and a verdict', async () => {
    // the real task registry: every task of the job model has its module in this build
    const r = await cli(['doctor', '--json'], { fake: false });
    const report = JSON.parse(String(r.stdout)) as { verdict: { ok: boolean; problems: string[] }; tasks: { implemented: string[] }; autoDevice: string; addon: { found: boolean } };
    expect(r.exitCode).toBe(report.verdict.ok ? 0 : 1);
    expect([...report.tasks.implemented].sort()).toEqual([...taskNames].sort());
    expect(report.autoDevice).toBe('cpu');
    expect(report.addon.found).toBe(true);
    const text = String((await cli(['doctor'])).stdout);
    expect(text).toMatch(/\nverdict: (ready|not ready)/);
    expect(text).toContain('cuda engine');
  });
});

async function expectUsageIn(args: string[], message: string) {
  const r = await cli(args);
  expect(r.exitCode, String(r.stderr)).toBe(2);
  expect(String(r.stderr)).toContain(message);
}

// The real thing: the default model through the real passkey task (when both are at hand).
const realPasskey = existsSync(join(root, 'dist', 'tasks', 'builtin.js')) && existsSync(join(root, 'dist', 'tasks', 'passkey', 'index.js'));
const modelCached = process.env.ADAMAS_BENCH_CACHE !== undefined && isCached(models[0], process.env.ADAMAS_BENCH_CACHE);

describe('the real default model', () => {
  it.skipIf(!realPasskey || !modelCached)('passkey --budget 64 at one short length runs end to end on the CPU', async () => {
    const out = join(cwd, 'real');
    const r = await cli(['passkey', '--budget', '64', '--lengths', '256', '--depths', '50', '--trials', '1', '--methods', 'adamas', '--out', out],
      { fake: false, env: { ADAMAS_BENCH_CACHE: process.env.ADAMAS_BENCH_CACHE! }, timeout: 120_000 });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stdout)).toMatch(/^passkey: accuracy, mean \[95% Wilson interval\] and n\n[^]*\nadamas@64\s+[01] \[[\d.]+, [\d.]+\] n=1$/);
    const meta = readMeta(out);
    expect(meta.models['smollm2-135m-instruct-q4_1'].sha256).toBe(models[0].sha256);
    const acc = readRun(out).rows.filter((x) => x.metric === 'accuracy');
    expect(acc.map((x) => x.label)).toEqual(['adamas@64']);
    expect(['0', '1']).toContain(acc[0].value);
    expect(JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8')).backend).toBe('cpu');
    expect(meta.options.kvCache).toBeUndefined();
  });

  it.skipIf(!realPasskey || !modelCached)('--kv-cache f16 on the CPU: in meta.json, and a resume with f32 is refused naming both', async () => {
    const out = join(cwd, 'real-kv16');
    const args = ['passkey', '--budget', '64', '--lengths', '256', '--depths', '50', '--trials', '1', '--methods', 'adamas', '--out', out];
    const env = { ADAMAS_BENCH_CACHE: process.env.ADAMAS_BENCH_CACHE! };
    const r = await cli([...args, '--kv-cache', 'f16'], { fake: false, env, timeout: 120_000 });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(readMeta(out).options.kvCache).toBe('f16');
    expect(readRun(out).rows.filter((x) => x.metric === 'accuracy').map((x) => x.label)).toEqual(['adamas@64']);
    const again = await cli([...args, '--resume', '--kv-cache', 'f32'], { fake: false, env });
    expect(again.exitCode, String(again.stderr)).toBe(2);
    expect(String(again.stderr)).toContain(`${out} was run with --kv-cache f16, not f32`);
    // without the flag, a resume of the whole run keeps f16 (nothing left to run)
    const kept = await cli(['run', '--resume', out], { fake: false, env });
    expect(kept.exitCode, String(kept.stderr)).toBe(0);
  });
});
