// adamas-bench agree over synthetic run directories built here: identical runs agree (exit 0); a
// big accuracy drop of one method is a significant difference (exit 1); perplexity 2% off is
// flagged against the 1% band; selections agreed on, full-attention cases whose answers part
// (with the margins there) and replayed logits come from the records.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { caseString, jobId, type Job } from '../src/core/job.js';
import { knobCells, makeSpec, methodLabel, type MethodSpec } from '../src/methods/spec.js';
import { resultColumns, type ResultRow } from '../src/results/columns.js';
import type { JobRecords, LogitsStep } from '../src/results/records.js';
import { readJobs, readRun } from '../src/results/read.js';
import { readJobRecords } from '../src/results/records.js';
import { agreement, type AgreeSide } from '../src/stats/agreement.js';
import { bin, ensureBuilt } from './helpers/build.js';

interface SynthJob {
  job: Job;
  rows: Partial<ResultRow>[];
  records?: Omit<JobRecords, 'jobId' | 'label' | 'layers' | 'heads'>;
}

const methods: MethodSpec[] = [makeSpec('full', undefined), makeSpec('streaming', 64), makeSpec('adamas', 64)];

function makeJob(method: MethodSpec, task: 'passkey' | 'ppl', depth: number | undefined, params: Record<string, number>): Job {
  const base = { suite: 'synthetic', task, dataset: task === 'ppl' ? 'pg19' : '', model: 'default', method, contextLen: 2048, depth, params, seed: 42 };
  return { ...base, id: jobId(base), prefixKey: '' };
}

/** Right or wrong, the same for every backend unless `drop` turns it wrong. */
const correct = (d: number, t: number) => ((d / 10) * 7 + t * 3) % 10 < 7;

function logitsSteps(tokens: number[], margin = 1): LogitsStep[] {
  return tokens.map((chosen, i) => ({ position: 2000 + i, token: i === 0 ? 5 : tokens[i - 1], chosen, chosenLogit: 10, margin,
    ids: [chosen, 999, ...Array.from({ length: 18 }, (_, k) => 1000 + k)], values: [10, 10 - margin, ...Array.from({ length: 18 }, (_, k) => 5 - k * 0.1)] }));
}

interface Variant {
  /** adamas@64 answers made wrong (cases) */
  drop?: number;
  /** factor on adamas's perplexity */
  ppl?: number;
  /** heads whose adamas list differs in one position */
  selectionOff?: boolean;
  /** full: the answer of depth 0 trial 0 parts at step 2 */
  part?: boolean;
  /** a replay of `from` with this |logit| error */
  replay?: { from: string; error: number };
  /** added to adamas's mean NLL of window i */
  nllShift?: (i: number) => number;
}

const baseWindows = [2.4, 2.5, 2.6, 2.45, 2.55, 2.5, 2.48, 2.52];

function plan(v: Variant): SynthJob[] {
  const out: SynthJob[] = [];
  let dropped = 0;
  for (const method of methods)
    for (let d = 0; d <= 100; d += 10)
      for (let t = 0; t < 3; t++) {
        const job = makeJob(method, 'passkey', d, { trial: t, key: 1000 + d * 10 + t });
        let ok = correct(d, t);
        if (method.method === 'adamas' && ok && dropped < (v.drop ?? 0)) {
          ok = false;
          dropped++;
        }
        const parts = method.method === 'full' && d === 0 && t === 0 && v.part;
        const answer = ok && !parts ? String(1000 + d * 10 + t) : '4242';
        const rec: SynthJob['records'] = { positions: [2000, 2001, 2002] };
        if (method.method === 'adamas') {
          const lists = [[], [], [0, 1, 2001], [3, 4, 2001]];
          rec.selected = [0, 1, 2].map((s) => lists.map((l, i) => (l.length ? l.map((x) => (x === 2001 ? 2000 + s : x)) : []))
            .map((l, i) => (v.selectionOff && i === 2 && l.length ? [5, ...l.slice(1)] : l)));
        }
        const tokens = parts ? [7, 8, 11, 12] : [7, 8, 9, 10];
        rec.logits = logitsSteps(tokens, parts ? 0.25 : 1);
        if (v.replay) rec.replay = { from: v.replay.from, jobId: job.id, replayed: 3, notRecorded: 0 };
        if (v.replay) rec.logits = rec.logits.map((s) => ({ ...s, atRecorded: s.values.map((x, i) => x + (i === 3 ? v.replay!.error : 0)) }));
        out.push({ job, rows: [{ metric: 'accuracy', value: ok ? '1' : '0', n: '1', detail: JSON.stringify({ answer, key: 1000 + d * 10 + t }) }], records: rec });
      }
  for (const method of methods) {
    const job = makeJob(method, 'ppl', undefined, { book: 0 });
    const ppl = { full: 11.8, streaming: 13.1, adamas: 12.0 }[method.method as 'full'] * (method.method === 'adamas' ? v.ppl ?? 1 : 1);
    const windows = baseWindows.map((w, i) => Number((w + (method.method === 'adamas' ? v.nllShift?.(i) ?? 0 : 0)).toFixed(4)));
    out.push({ job, rows: [{ metric: 'ppl', value: String(ppl), n: '4095', detail: JSON.stringify({ window: 512, nllWindows: windows }) }] });
  }
  return out;
}

function writeRun(dir: string, device: 'cpu' | 'cuda', jobs: SynthJob[]): string {
  mkdirSync(join(dir, 'records'), { recursive: true });
  const rows = jobs.flatMap(({ job, rows: rs }) => rs.map((r) => ({
    ...Object.fromEntries(resultColumns.map((c) => [c, ''])),
    run_id: device, suite: job.suite, task: job.task, dataset: job.dataset, model: job.model, device, method: job.method.method,
    label: methodLabel(job.method), budget: String(job.method.budget ?? ''), context_len: String(job.contextLen), depth: String(job.depth ?? ''),
    case: caseString(job.params), unit: '', ...knobCells(job.method), seed: String(job.seed), job_id: job.id, samples: '', ...r,
  }) as ResultRow));
  const csv = stringify(rows, { header: true, columns: [...resultColumns] });
  writeFileSync(join(dir, 'results.csv'), csv);
  const bytes = Buffer.byteLength(csv);
  writeFileSync(join(dir, 'jobs.jsonl'), jobs.map((j) => JSON.stringify(j.job)).join('\n') + '\n');
  writeFileSync(join(dir, 'journal.jsonl'), jobs.map((j) => JSON.stringify({ jobId: j.job.id, status: 'ok', seconds: 1, rows: j.rows.length, finishedAt: '2025-01-01T00:00:00Z', csvBytes: bytes })).join('\n') + '\n');
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ schemaVersion: 1, runId: device, suite: 'synthetic', device: { kind: device, names: [device === 'cuda' ? 'Fake GPU' : 'Fake CPU'] }, models: {} }));
  for (const j of jobs)
    if (j.records) writeFileSync(join(dir, 'records', `${j.job.id}.json`), JSON.stringify({ jobId: j.job.id, label: methodLabel(j.job.method), layers: 2, heads: 2, ...j.records }));
  return dir;
}

function load(dir: string): AgreeSide {
  return { dir, rows: readRun(dir).rows, jobs: readJobs(dir), records: (id) => readJobRecords(dir, id) };
}

let root: string;
const dirs: Record<string, string> = {};

beforeAll(async () => {
  await ensureBuilt();
  root = mkdtempSync(join(tmpdir(), 'agree-'));
  dirs.cpu = writeRun(join(root, 'cpu'), 'cpu', plan({}));
  dirs.same = writeRun(join(root, 'same'), 'cuda', plan({}));
  dirs.drop = writeRun(join(root, 'drop'), 'cuda', plan({ drop: 15 }));
  dirs.ppl = writeRun(join(root, 'ppl'), 'cuda', plan({ ppl: 1.02 }));
  dirs.noisy = writeRun(join(root, 'noisy'), 'cuda', plan({ ppl: 1.005, selectionOff: true, part: true }));
  dirs.shifted = writeRun(join(root, 'shifted'), 'cuda', plan({ ppl: 1.02, nllShift: () => 0.02 }));
  dirs.wobbly = writeRun(join(root, 'wobbly'), 'cuda', plan({ ppl: 1.02, nllShift: (i) => (i % 2 ? 0.05 : -0.03) }));
  dirs.replay = writeRun(join(root, 'replay'), 'cuda', plan({ replay: { from: join(root, 'cpu'), error: 1e-3 } }));
  dirs.replayOff = writeRun(join(root, 'replay-off'), 'cuda', plan({ replay: { from: join(root, 'cpu'), error: 0.05 } }));
}, 120_000);

const agree = (args: string[]) => execa(process.execPath, [bin, 'agree', ...args], { reject: false, timeout: 60_000, env: { FORCE_COLOR: '0' } });

describe('agree', () => {
  it('identical runs agree: every cell "no difference", perplexity within the band, exit 0', async () => {
    const r = await agree([dirs.cpu, dirs.same]);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const out = String(r.stdout);
    expect(out).toMatch(/accuracy: the cases paired, exact McNemar/);
    expect(out).toMatch(/passkey\s+adamas@64\s+2048\s+0\.7\d* \[[\d.]+, [\d.]+\] n=33\s+0\.7\d* \[[\d.]+, [\d.]+\] n=33\s+33\s+0 \/ 0\s+1\s+no difference/);
    expect(out).toMatch(/ppl\/pg19\s+adamas@64\s+2048\s+12 n=4095\s+12 n=4095\s+1\s+8\s+\[1\.0000, 1\.0000\]\s+1 \(0 \/ 0\)\s+within band/);
    expect(out).toMatch(/verdict: the runs agree/);
    const j = agreement(load(dirs.cpu), load(dirs.same));
    expect(j.differences).toBe(0);
    expect(j.pairedJobs).toBe(3 * 33 + 3);
    expect(j.accuracy.map((c) => c.verdict)).toEqual(['no difference', 'no difference', 'no difference']);
    expect(j.selections).toEqual([expect.objectContaining({ label: 'adamas@64', jobs: 33, lists: 33 * 3 * 2, jaccard: 1, exact: 1 })]);
    expect(j.parted).toEqual([]);
  });

  it('a big accuracy drop of one method is a significant difference: exit 1', async () => {
    const r = await agree([dirs.cpu, dirs.drop, '--json']);
    expect(r.exitCode).toBe(1);
    const j = JSON.parse(String(r.stdout)) as ReturnType<typeof agreement>;
    const adamas = j.accuracy.find((c) => c.label === 'adamas@64')!;
    expect(adamas.verdict).toBe('differs');
    expect(adamas.paired).toMatchObject({ pairs: 33, lower: 15, higher: 0, test: 'mcnemar-exact' });
    expect(adamas.pHolm!).toBeLessThan(0.05);
    expect(j.accuracy.filter((c) => c.label !== 'adamas@64').map((c) => c.verdict)).toEqual(['no difference', 'no difference']);
    expect(j.differences).toBe(1);
  });

  it('a small drop stays within the noise', () => {
    const small = writeRun(join(root, 'small-drop'), 'cuda', plan({ drop: 2 }));
    const j = agreement(load(dirs.cpu), load(small));
    expect(j.accuracy.find((c) => c.label === 'adamas@64')).toMatchObject({ verdict: 'no difference', paired: expect.objectContaining({ lower: 2 }) });
    expect(j.differences).toBe(0);
  });

  it('perplexity 2% off is flagged against the 1% band; 0.5% is not', async () => {
    const r = await agree([dirs.cpu, dirs.ppl]);
    expect(r.exitCode).toBe(1);
    expect(String(r.stdout)).toMatch(/ppl\/pg19\s+adamas@64\s+2048\s+12 n=4095\s+12\.24 n=4095\s+1\.02\s+8\s+\[1\.0000, 1\.0000\]\s+1 \(0 \/ 0\)\s+differs/);
    expect(String(r.stdout)).toMatch(/verdict: 1 cell\(s\) differ beyond their band/);
    const j = agreement(load(dirs.cpu), load(dirs.noisy));
    expect(j.perplexity.find((c) => c.label === 'adamas@64')).toMatchObject({ verdict: 'within band' });
    expect(agreement(load(dirs.cpu), load(dirs.ppl), { pplBand: 0.03 }).differences).toBe(0);
  });

  it("perplexity's windows paired: a shift over every window is significant, one that changes sign is not", () => {
    const shifted = agreement(load(dirs.cpu), load(dirs.shifted)).perplexity.find((c) => c.label === 'adamas@64')!;
    expect(shifted.windows).toMatchObject({ windows: 8, lower: 0, higher: 8 });
    expect(shifted.windows!.p).toBeCloseTo(2 / 256, 10);
    const [lo, hi] = shifted.windows!.ratioCi!;
    expect(lo).toBeGreaterThan(1.0195);
    expect(hi).toBeLessThan(1.0210);
    const wobbly = agreement(load(dirs.cpu), load(dirs.wobbly)).perplexity.find((c) => c.label === 'adamas@64')!;
    expect(wobbly.windows).toMatchObject({ windows: 8, lower: 4, higher: 4, p: 1 });
    expect(wobbly.windows!.ratioCi![0]).toBeLessThan(1);
    expect(wobbly.windows!.ratioCi![1]).toBeGreaterThan(1);
    expect(wobbly.verdict).toBe('differs');  // the verdict stays the band's
  });

  it('selections agreed on, and the full-attention case whose answer parts with the margins where it does', async () => {
    const j = agreement(load(dirs.cpu), load(dirs.noisy));
    const s = j.selections[0];
    expect(s.lists).toBe(33 * 3 * 2);
    expect(s.exact).toBeCloseTo(0.5, 10);  // one of the two sparse heads' lists is off in one position
    expect(s.jaccard).toBeCloseTo((1 + 2 / 4) / 2, 10);
    expect(j.parted).toEqual([expect.objectContaining({
      label: 'full', depth: 0, answerA: '1000', answerB: '4242', step: 2, position: 2002, chosenA: 9, chosenB: 11, marginA: 1, marginB: 0.25,
    })]);
    const r = await agree([dirs.cpu, dirs.noisy]);
    expect(String(r.stdout)).toMatch(/passkey full len=2048 depth=0 key=1000;trial=0: a "1000", b "4242"; tokens part at step 2 \(position 2002\): a chose 9 \(margin 1\), b chose 11 \(margin 0\.25\)/);
    expect(String(r.stdout)).toMatch(/passkey\s+adamas@64\s+2048\s+33\s+198\s+0\.75\s+50\.0%/);
  });

  it('replayed selections: the largest |logit difference| per step against the tolerance', async () => {
    const ok = agreement(load(dirs.cpu), load(dirs.replay));
    expect(ok.replays).toHaveLength(3);
    for (const c of ok.replays) expect(c).toMatchObject({ replayed: 'b', jobs: 33, steps: 132, over: 'recorded top 20', verdict: 'within tolerance' });
    expect(ok.replays[0].max).toBeCloseTo(1e-3, 6);
    expect(ok.differences).toBe(0);
    const off = await agree([dirs.cpu, dirs.replayOff]);
    expect(off.exitCode).toBe(1);
    expect(String(off.stdout)).toMatch(/replayed selections: the largest \|logit difference\| of each decode step, tolerance 0\.02/);
    expect(String(off.stdout)).toMatch(/passkey\s+adamas@64\s+2048\s+b\s+33\s+132\s+0\.05\s+0\.05\s+recorded top 20\s+differs/);
    expect((await agree([dirs.cpu, dirs.replayOff, '--logit-tolerance', '0.1'])).exitCode).toBe(0);
  });

  it('bad input: exit 2 naming the problem', async () => {
    const r1 = await agree([dirs.cpu, join(root, 'nowhere')]);
    expect(r1.exitCode).toBe(2);
    expect(String(r1.stderr)).toMatch(/nowhere: no such run directory/);
    const other = join(root, 'other');
    writeRun(other, 'cuda', plan({}).map((j) => ({ ...j, job: { ...j.job, seed: 7, id: `x${j.job.id}` }, rows: j.rows.map((r) => ({ ...r, metric: 'score' })) })).filter((j) => j.job.task === 'passkey'));
    const r2 = await agree([dirs.cpu, other]);
    expect(r2.exitCode).toBe(2);
    expect(String(r2.stderr)).toMatch(/share no measurement/);
    const r3 = await agree([dirs.cpu, dirs.same, '--alpha', '2']);
    expect(r3.exitCode).toBe(2);
  });
});
