// --record-logits and --replay-selection: the decode instruments on a stand-in engine (the top-20
// logits and margins of each step; the recorded lists handed to replayNext at their positions),
// the refusal of a recorded run whose jobs do not match, and, on the default model when cached,
// a CPU run replayed on the CPU: the same logits bit for bit at every step.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../src/core/errors.js';
import { jobId, type Job } from '../src/core/job.js';
import { makeSpec } from '../src/methods/spec.js';
import { isCached, registry as models } from '../src/model/catalog.js';
import type { EngineRecords, NativeEngine } from '../src/native/addon.js';
import { readRun } from '../src/results/read.js';
import { readJobRecords, type JobRecords } from '../src/results/records.js';
import { checkReplaySource } from '../src/results/replay-source.js';
import { InstrumentedEngine, topLogits } from '../src/worker/decode-instruments.js';
import { bin, ensureBuilt, root } from './helpers/build.js';
import { fakeSuite, runFake } from './helpers/runs.js';

describe('topLogits', () => {
  it('the k largest, largest first, ties to the smaller id', () => {
    const l = Float32Array.from([3, 9, 1, 9, -2, 7, 0.5, 8]);
    expect(topLogits(l, 3)).toEqual({ ids: [1, 3, 7], values: [9, 9, 8] });
    expect(topLogits(l, 20).ids).toEqual([1, 3, 7, 5, 0, 2, 6, 4]);
    const big = Float32Array.from({ length: 5000 }, (_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1);
    const want = [...big.keys()].sort((a, b) => big[b] - big[a] || a - b).slice(0, 20);
    expect(topLogits(big, 20).ids).toEqual(want);
  });
});

/** An engine whose logits at position p favour token (p * 7) % V, the next token. */
function fakeEngine(V = 50, layers = 2, heads = 2) {
  let length = 0;
  const replayed: { position: number; lists: number[][] }[] = [];
  const logitsAt = (p: number) => Float32Array.from({ length: V }, (_, i) => (i === (p * 7) % V ? 5 : i === (p * 7 + 1) % V ? 4.5 : Math.cos(i + p)));
  const engine = {
    config: { nLayers: layers, nHeads: heads, vocabSize: V },
    get length() {
      return length;
    },
    backend: 'cpu',
    deviceName: 'fake',
    lastDecodeMs: NaN,
    setAttention() {},
    reset() {
      length = 0;
    },
    truncate(n: number) {
      length = n;
    },
    reserve() {},
    async prefill(t: Int32Array) {
      length += t.length;
      return { token: 0, logits: logitsAt(length - 1) };
    },
    async decode(_t: number, o?: { logits?: boolean }) {
      const p = length++;
      const logits = logitsAt(p);
      return { token: (p * 7) % V, ...(o?.logits && { logits }) };
    },
    replayNext(selected: Int32Array[]) {
      replayed.push({ position: length, lists: selected.map((l) => Array.from(l)) });
    },
    records: (): EngineRecords => ({ positions: new Int32Array() }),
  } as unknown as NativeEngine;
  return { engine, replayed, logitsAt };
}

function job(over: Partial<Job> = {}): Job {
  const base: Omit<Job, 'id' | 'prefixKey'> = {
    suite: 's', task: 'passkey', dataset: '', model: 'default', method: makeSpec('adamas', 64), contextLen: 256, depth: 50,
    params: { trial: 0 }, seed: 42, ...over,
  };
  return { ...base, id: jobId(base), prefixKey: '' };
}

describe('the decode instruments', () => {
  it('--record-logits: per decode step the top 20, the chosen token, its logit and margin', async () => {
    const { engine, logitsAt } = fakeEngine();
    const e = new InstrumentedEngine(engine, { recordLogits: true });
    e.beginJob(job());
    await e.prefill(Int32Array.from([1, 2, 3]));
    const first = await e.decode(11);
    expect(first).toEqual({ token: 21 });  // the task's view is unchanged: no logits unless asked
    const second = await e.decode(21, { logits: true });
    expect(Array.from(second.logits)).toEqual(Array.from(logitsAt(4)));
    const rec = e.finishJob()!;
    expect(rec.logits).toHaveLength(2);
    const [s0, s1] = rec.logits!;
    expect(s0).toMatchObject({ position: 3, token: 11, chosen: 21, chosenLogit: 5, margin: 0.5 });
    expect(s0.ids).toHaveLength(20);
    expect(s0.ids.slice(0, 2)).toEqual([21, 22]);
    expect(s0.values).toEqual([...s0.values].sort((a, b) => b - a));
    expect(s1.position).toBe(4);
    expect(e.finishJob()).toEqual({ logits: [] });  // the next job starts empty
  });

  it('--replay-selection: the recorded lists go to replayNext before the step of their position', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'recorded-'));
    const { engine, replayed } = fakeEngine();
    const j = job();
    const records: JobRecords = {
      jobId: j.id, label: 'adamas@64', layers: 2, heads: 2, positions: [3, 4, 5],
      selected: [[[], [], [], []], [[], [], [0, 4], [1, 4]], [[], [], [2, 5], [3, 5]]],
      logits: [{ position: 4, token: 0, chosen: 28, chosenLogit: 5, margin: 0.5, ids: [28, 29, 3], values: [5, 4.5, 1] }],
    };
    const source = {
      dir, meta: {} as never, jobs: [j], byKey: new Map(), ok: new Set([j.id]),
    };
    const { replayKey } = await import('../src/results/replay-source.js');
    source.byKey.set(replayKey(j), j);
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(join(dir, 'records'));
    writeFileSync(join(dir, 'records', `${j.id}.json`), JSON.stringify(records));
    const e = new InstrumentedEngine(engine, { replay: source, recordLogits: true });
    e.beginJob(j);
    await e.prefill(Int32Array.from([1, 2, 3]));
    for (let i = 0; i < 4; i++) await e.decode(1);  // positions 3, 4, 5 recorded; 6 is not
    expect(replayed).toEqual([{ position: 4, lists: records.selected![1] }, { position: 5, lists: records.selected![2] }]);
    const rec = e.finishJob()!;
    expect(rec.replay).toEqual({ from: dir, jobId: j.id, replayed: 2, notRecorded: 1 });
    expect(rec.logits![1].atRecorded).toEqual([5, 4.5, Math.fround(Math.cos(3 + 4))]);
    // a full-attention job replays nothing
    e.beginJob(job({ method: makeSpec('full', undefined) }));
    expect(e.finishJob()?.replay).toBeUndefined();
  });

  it('refuses a recorded run of another model file', () => {
    const { engine } = fakeEngine();
    const source = { dir: '/r', meta: { models: { default: { path: 'm', sha256: 'aaa', config: {} } } } as never, jobs: [], byKey: new Map(), ok: new Set<string>() };
    const e = new InstrumentedEngine(engine, { replay: source });
    expect(() => e.checkModel('default', 'bbb')).toThrow(/--replay-selection \/r: the recorded run loaded model 'default' with sha256 aaa, this run loads bbb/);
    expect(() => e.checkModel('default', 'aaa')).not.toThrow();
  });
});

describe('--replay-selection refuses a recorded run that does not match', () => {
  let recorded: string;
  beforeAll(async () => {
    recorded = join(mkdtempSync(join(tmpdir(), 'rec-')), 'run');
    const { outcome } = await runFake({ ...fakeSuite, tasks: [fakeSuite.tasks[0]] }, { out: recorded });
    expect(outcome.exitCode).toBe(0);
  }, 120_000);

  it('another budget, another length, another method: the flag, the job and the nearest recorded job', async () => {
    const other = (budgets: number[], lengths: number[]) => runFake({ ...fakeSuite, budgets, tasks: [{ ...fakeSuite.tasks[0], lengths }] },
      { out: join(mkdtempSync(join(tmpdir(), 'rep-')), 'run'), replaySelection: recorded });
    await expect(other([128], [256, 512])).rejects.toThrow(/--replay-selection .*: the recorded run has no job matching passkey adamas@128 len=256 depth=0 trial=0 .*the nearest, passkey adamas@64 len=256 depth=0 trial=0, differs in budget 64 \(not 128\)/);
    await expect(other([64], [1024])).rejects.toThrow(/differs in length 256 \(not 1024\)|differs in length 512 \(not 1024\)/);
    await expect(other([64], [256])).rejects.toThrow(UsageError);  // the same jobs, but no selections were recorded
    await expect(other([64], [256])).rejects.toThrow(/no records of passkey adamas@64 len=256 .*record its selections with --record-selection/);
  });

  it('names the flag for a directory that is no run', () => {
    expect(() => checkReplaySource([job()], join(recorded, 'nowhere'))).toThrow(/--replay-selection .*nowhere: no such run directory/);
    expect(() => checkReplaySource([job()], tmpdir())).toThrow(/is not a run directory/);
  });
});

const modelCached = isCached(models[0]);
const realPasskey = existsSync(join(root, 'dist', 'tasks', 'passkey', 'index.js'));

describe.runIf(modelCached)('the default model: a recorded run replayed on the same backend', () => {
  const base = ['passkey', '--budget', '64', '--lengths', '256', '--depths', '50', '--trials', '1', '--methods', 'adamas,full', '--device', 'cpu'];
  let a: string;
  let b: string;
  beforeAll(async () => {
    await ensureBuilt();
    expect(realPasskey).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'replay-'));
    a = join(dir, 'a');
    b = join(dir, 'b');
    const cli = (args: string[]) => execa(process.execPath, [bin, ...args], { reject: false, timeout: 300_000, env: { FORCE_COLOR: '0' } });
    const ra = await cli([...base, '--record-selection', '--record-logits', '--out', a]);
    expect(ra.exitCode, String(ra.stderr)).toBe(0);
    const rb = await cli([...base, '--replay-selection', a, '--record-logits', '--out', b]);
    expect(rb.exitCode, String(rb.stderr)).toBe(0);
  }, 600_000);

  it('records every decode step: the top 20 logits, the chosen token, its logit and margin', () => {
    for (const j of readRun(a).journal) {
      const r = readJobRecords(a, j.jobId)!;
      expect(r.logits!.length).toBeGreaterThan(50);
      r.logits!.forEach((s, i) => {
        expect(s.ids).toHaveLength(20);
        expect(s.values).toEqual([...s.values].sort((x, y) => y - x));
        expect(s.chosen).toBe(s.ids[0]);
        expect(s.chosenLogit).toBe(s.values[0]);
        expect(s.margin).toBeCloseTo(s.values[0] - s.values[1], 5);
        if (i > 0) expect(s.position).toBe(r.logits![i - 1].position + 1);
      });
      if (r.label === 'adamas@64') expect(r.selected!.length).toBe(r.logits!.length);
    }
  });

  it('the replay attends over the recorded lists: the same logits at every step, the same answer', () => {
    const ra = readRun(a);
    const rb = readRun(b);
    const adamas = ra.journal.map((j) => readJobRecords(a, j.jobId)!).find((r) => r.label === 'adamas@64')!;
    const replay = readJobRecords(b, adamas.jobId)!;
    expect(replay.replay).toMatchObject({ jobId: adamas.jobId, notRecorded: 0 });
    expect(replay.replay!.replayed).toBeGreaterThan(50);
    replay.logits!.forEach((s, i) => {
      expect(s.atRecorded).toEqual(adamas.logits![i].values);
      expect(s.chosen).toBe(adamas.logits![i].chosen);
    });
    const acc = (rows: typeof ra.rows) => rows.filter((r) => r.metric === 'accuracy').map((r) => [r.label, r.value, r.detail]).sort();
    expect(acc(rb.rows)).toEqual(acc(ra.rows));
    const full = ra.journal.map((j) => readJobRecords(b, j.jobId)!).find((r) => r.label === 'full')!;
    expect(full.replay).toBeUndefined();  // full attention selects nothing to replay
    expect(readFileSync(join(b, 'meta.json'), 'utf8')).toContain('--replay-selection');
  });
});
