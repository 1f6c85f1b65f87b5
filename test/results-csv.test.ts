// results.csv and the journal: fixed columns, CSV escaping, the journal rule (rows count only when
// the job's latest journal line is ok, and only the bytes that line vouches for); unreadable
// journal lines count as no line.
import { appendFileSync, mkdtempSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeSpec } from '../src/methods/spec.js';
import { resultColumns } from '../src/results/columns.js';
import { readJournal } from '../src/results/journal.js';
import { writeMeta, type RunMeta } from '../src/results/meta.js';
import { readResultsFile, readRun } from '../src/results/read.js';
import { runPath } from '../src/results/rundir.js';
import { RunWriter, toRows } from '../src/results/write.js';
import type { Job } from '../src/core/job.js';

function job(i: number, extra: Partial<Job> = {}): Job {
  return {
    id: `job${String(i).padStart(13, '0')}`,
    suite: 's',
    task: 'passkey',
    dataset: '',
    model: 'm',
    method: makeSpec('adamas', 64, { hadamard: false, thresholds: [-1, 0, 1] }),
    contextLen: 1024,
    depth: 50,
    params: { trial: i, b: 'x' },
    prefixKey: '',
    seed: 42,
    ...extra,
  };
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'results-'));
}

function fakeMeta(dir: string): void {
  writeMeta(dir, { schemaVersion: 1, runId: 'r', suite: 's' } as RunMeta);
}

describe('rows', () => {
  it('fill every column from the job and the measurement', () => {
    const [row] = toRows(job(1), [{ metric: 'decode_ms', value: 1.25, unit: 'ms', n: 3, samples: [1, 1.25, 1.5], detail: 'd' }], { runId: 'r', device: 'cpu' });
    expect(Object.keys(row)).toEqual([...resultColumns]);
    expect(row).toMatchObject({
      run_id: 'r', task: 'passkey', method: 'adamas', label: 'adamas[no-hadamard,thresholds=-1,0,1]@64', budget: '64',
      context_len: '1024', depth: '50', case: 'b=x;trial=1', metric: 'decode_ms', value: '1.25', unit: 'ms', n: '3',
      hadamard: 'false', thresholds: '-1,0,1', bits: '2', seed: '42', job_id: job(1).id, samples: '1 1.25 1.5', detail: 'd',
    });
    const [full] = toRows(job(2, { method: makeSpec('full', undefined), depth: undefined }), [{ metric: 'a', value: NaN, unit: '', n: 1 }], { runId: 'r', device: 'cpu' });
    expect(full.budget).toBe('');
    expect(full.depth).toBe('');
    expect(full.value).toBe('NaN');
    expect(full.samples).toBe('');
  });

  it('survive commas, quotes and newlines (written, then read back)', () => {
    const dir = tmp();
    const w = RunWriter.create(dir, 'r', [job(1)]);
    const nasty = 'answer: "4,2"\nsecond, line\r\nthird "" end';
    w.appendJob({ job: job(1, { dataset: 'a,b' }), device: 'cpu', status: 'ok', seconds: 1, measurements: [{ metric: 'accuracy', value: 1, unit: '', n: 1, detail: nasty }] });
    w.close();
    const text = readFileSync(runPath(dir, 'results'), 'utf8');
    expect(text.split('\n')[0]).toBe(resultColumns.join(','));
    const rows = readResultsFile(runPath(dir, 'results'));
    expect(rows).toHaveLength(1);
    expect(rows[0].detail).toBe(nasty);
    expect(rows[0].dataset).toBe('a,b');
    expect(rows[0].label).toBe('adamas[no-hadamard,thresholds=-1,0,1]@64');
  });

  it('a results file without the fixed columns is refused, naming them', () => {
    const dir = tmp();
    const p = join(dir, 'x.csv');
    writeFileSync(p, 'run_id,task\nr,passkey\n');
    expect(() => readResultsFile(p)).toThrow(/lacks the columns suite, dataset/);
  });
});

describe('the journal rule', () => {
  function writeRun(): string {
    const dir = tmp();
    fakeMeta(dir);
    const w = RunWriter.create(dir, 'r', [job(1), job(2), job(3)]);
    const m = [{ metric: 'accuracy', value: 1, unit: '', n: 1 }, { metric: 'decode_ms', value: 2, unit: 'ms', n: 1 }];
    w.appendJob({ job: job(1), device: 'cpu', status: 'ok', seconds: 1, measurements: m });
    w.appendJob({ job: job(2), device: 'cpu', status: 'failed', seconds: 1, error: 'boom' });
    w.appendJob({ job: job(3), device: 'cpu', status: 'ok', seconds: 1, measurements: m });
    w.close();
    return dir;
  }

  it('journal lines carry status, rows and the csv size', () => {
    const dir = writeRun();
    const j = readJournal(runPath(dir, 'journal'));
    expect(j.map((e) => [e.jobId, e.status, e.rows])).toEqual([[job(1).id, 'ok', 2], [job(2).id, 'failed', 0], [job(3).id, 'ok', 2]]);
    expect(j[2].csvBytes).toBe(statSync(runPath(dir, 'results')).size);
    expect(j[1].error).toBe('boom');
    expect(readRun(dir).rows.map((r) => r.job_id)).toEqual([job(1).id, job(1).id, job(3).id, job(3).id]);
  });

  it('ignores rows no journal line vouches for (a crash between rows and journal)', () => {
    const dir = writeRun();
    const orphan = readFileSync(runPath(dir, 'results'), 'utf8').split('\n').slice(1, 3).join('\n').replaceAll(job(1).id, job(4).id);
    appendFileSync(runPath(dir, 'results'), `${orphan}\n`);
    appendFileSync(runPath(dir, 'journal'), '{"jobId":"job00000000000'); // torn line of a kill -9
    const run = readRun(dir);
    expect(run.rows).toHaveLength(4);
    expect(run.rows.some((r) => r.job_id === job(4).id)).toBe(false);
    expect(run.journal).toHaveLength(3);
  });

  it('resuming cuts off the unvouched tail, then appends', () => {
    const dir = writeRun();
    const size = statSync(runPath(dir, 'results')).size;
    appendFileSync(runPath(dir, 'results'), 'r,s,passkey,half a row');
    appendFileSync(runPath(dir, 'journal'), '{"jobId":');
    const w = RunWriter.open(dir, 'r');
    expect(statSync(runPath(dir, 'results')).size).toBe(size);
    w.appendJob({ job: job(2), device: 'cpu', status: 'ok', seconds: 1, measurements: [{ metric: 'accuracy', value: 0, unit: '', n: 1 }] });
    w.close();
    const run = readRun(dir);
    expect(run.journal).toHaveLength(4);
    expect(run.latest.get(job(2).id)?.status).toBe('ok');
    expect(run.rows.filter((r) => r.job_id === job(2).id)).toHaveLength(1);
    expect(run.rows).toHaveLength(5);
  });

  it('refuses a results file shorter than the journal says', () => {
    const dir = writeRun();
    truncateSync(runPath(dir, 'results'), 100);
    expect(() => RunWriter.open(dir, 'r')).toThrow(/the run directory is damaged/);
  });

  it('a garbled journal line in the middle counts as no line: its job is not done, its rows are never read, even once it runs again', () => {
    const dir = writeRun();
    const lines = readFileSync(runPath(dir, 'journal'), 'utf8').split('\n');
    lines[0] = `${lines[0].slice(0, 30)}{"jobId":"x","status":"ok"}`; // two writers interleaved, as before the lock
    writeFileSync(runPath(dir, 'journal'), lines.join('\n'));
    const run = readRun(dir);
    expect(run.unreadableJournalLines).toEqual([1]);
    expect(run.latest.has(job(1).id)).toBe(false);
    expect(run.rows.map((r) => r.job_id)).toEqual([job(3).id, job(3).id]);
    // resumed: job 1 runs again; its first rows (still in results.csv) are not counted twice
    const w = RunWriter.open(dir, 'r');
    w.appendJob({ job: job(1), device: 'cpu', status: 'ok', seconds: 1, measurements: [{ metric: 'accuracy', value: 0, unit: '', n: 1 }] });
    w.close();
    const after = readRun(dir);
    expect(after.rows.map((r) => [r.job_id, r.metric, r.value])).toEqual([[job(3).id, 'accuracy', '1'], [job(3).id, 'decode_ms', '2'], [job(1).id, 'accuracy', '0']]);
    expect(after.unreadableJournalLines).toEqual([1]);
  });

  it('a journal line whose csvBytes goes back, or that is not an entry, is unreadable too', () => {
    const dir = writeRun();
    const lines = readFileSync(runPath(dir, 'journal'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    lines[2].csvBytes = 10;
    writeFileSync(runPath(dir, 'journal'), `${[...lines.map((l) => JSON.stringify(l)), '[1,2]', '{"jobId":"j","status":"maybe","rows":0,"csvBytes":1}'].join('\n')}\n`);
    const run = readRun(dir);
    expect(run.unreadableJournalLines).toEqual([3, 4, 5]);
    expect(run.rows.map((r) => r.job_id)).toEqual([job(1).id, job(1).id]);
  });

  it('of a job that appears twice between two journal lines, only the rows its line counts are read', () => {
    const dir = writeRun();
    // job 3's rows written twice before its line (two writers): its line vouches for 2 rows
    const text = readFileSync(runPath(dir, 'results'), 'utf8').split('\n');
    const j = readJournal(runPath(dir, 'journal'));
    const job3Rows = text.filter((l) => l.includes(job(3).id));
    const before = readFileSync(runPath(dir, 'results')).subarray(0, j[1].csvBytes);
    writeFileSync(runPath(dir, 'results'), Buffer.concat([before, Buffer.from(`${job3Rows.join('\n')}\n${job3Rows.join('\n')}\n`)]));
    const e3 = { ...j[2], csvBytes: statSync(runPath(dir, 'results')).size };
    writeFileSync(runPath(dir, 'journal'), `${[j[0], j[1], e3].map((e) => JSON.stringify(e)).join('\n')}\n`);
    expect(readRun(dir).rows.filter((r) => r.job_id === job(3).id)).toHaveLength(2);
  });
});
