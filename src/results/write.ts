// Writing a run: each finished job appends its rows to results.csv and then one line to the
// journal, each write followed by fsync, so a crash, Ctrl-C or kill -9 loses no finished job.
// results.csv is never rewritten; resuming only cuts off rows that no journal line vouches for.
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, readFileSync } from 'node:fs';
import { stringify } from 'csv-stringify/sync';
import { HarnessError } from '../core/errors.js';
import { appendSynced, makeDirectory, openFile, withFile } from '../core/files.js';
import { knobs, type KnobColumn } from '../methods/knobs.js';
import { knobCells } from '../methods/spec.js';
import { caseString, jobLabel, jobMethod, jobMethodLabel, type Job, type Measurement } from '../core/job.js';
import { resultColumns, type ResultRow } from './columns.js';
import { readJournal, type JournalEntry } from './journal.js';
import { runPath } from './rundir.js';

export const csvHeader = stringify([resultColumns as unknown as string[]]);

function num(v: number): string {
  return Number.isFinite(v) ? String(v) : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

const noKnobs = Object.fromEntries(knobs.map((k) => [k.column, ''])) as Record<KnobColumn, string>;

/** The tidy rows of one job's measurements. */
export function toRows(job: Job, measurements: readonly Measurement[], ctx: { runId: string; device: string }): ResultRow[] {
  const m = job.method;
  return measurements.map((x) => ({
    run_id: ctx.runId,
    suite: job.suite,
    task: job.task,
    dataset: job.dataset,
    model: job.model,
    device: ctx.device,
    method: jobMethod(job),
    label: jobMethodLabel(job),
    budget: m.budget === undefined || job.peer !== undefined ? '' : String(m.budget),
    context_len: String(job.contextLen),
    depth: job.depth === undefined ? '' : String(job.depth),
    case: caseString(job.params),
    metric: x.metric,
    value: num(x.value),
    unit: x.unit,
    n: String(x.n),
    // a peer has none of the engine's knobs
    ...(job.peer !== undefined ? noKnobs : knobCells(m)),
    seed: String(job.seed),
    job_id: job.id,
    samples: x.samples ? x.samples.map(num).join(' ') : '',
    detail: x.detail ?? '',
  }));
}

/** CSV text of rows (no header), in the fixed column order. */
export function rowsToCsv(rows: readonly ResultRow[]): string {
  return rows.length ? stringify(rows as ResultRow[], { columns: resultColumns as unknown as string[], header: false }) : '';
}

export interface FinishedJob {
  job: Job;
  device: string;
  status: 'ok' | 'failed';
  measurements?: readonly Measurement[];
  error?: string;
  code?: string;
  seconds: number;
}

export class RunWriter {
  private constructor(
    readonly dir: string,
    readonly runId: string,
    private csvFd: number,
    private journalFd: number,
  ) {}

  /** A new run directory: results.csv with its header, an empty journal, the plan. */
  static create(dir: string, runId: string, jobs: readonly Job[]): RunWriter {
    makeDirectory(runPath(dir, 'logs'));
    const jobsPath = runPath(dir, 'jobs');
    const jobsFd = openFile(jobsPath, 'wx');
    try {
      appendSynced(jobsFd, jobs.map((j) => JSON.stringify(j)).join('\n') + (jobs.length ? '\n' : ''), jobsPath);
    } finally {
      closeSync(jobsFd);
    }
    const csvFd = openFile(runPath(dir, 'results'), 'wx');
    appendSynced(csvFd, csvHeader, runPath(dir, 'results'));
    const journalFd = openFile(runPath(dir, 'journal'), 'wx');
    return new RunWriter(dir, runId, csvFd, journalFd);
  }

  /**
   * An existing run directory, for appending (resume, merge). Cuts off what no journal line vouches
   * for: a torn last journal line, and results.csv rows past the last journal line's csvBytes.
   */
  static open(dir: string, runId: string): RunWriter {
    const journalPath = runPath(dir, 'journal');
    const csvPath = runPath(dir, 'results');
    if (!existsSync(csvPath) || !existsSync(journalPath)) throw new HarnessError(`${dir} has no results.csv or journal.jsonl; it is not a run directory`);
    const journal = readJournal(journalPath);
    // a torn last line (no newline after it) is cut off, so that the next line starts a line
    const jtext = readFileSync(journalPath);
    if (jtext.length && jtext[jtext.length - 1] !== 0x0a) {
      const journalFd = openFile(journalPath, 'r+');
      try {
        withFile('truncate', journalPath, () => ftruncateSync(journalFd, jtext.lastIndexOf(0x0a) + 1));
      } finally {
        closeSync(journalFd);
      }
    }
    const limit = journal.length ? journal[journal.length - 1].csvBytes : Buffer.byteLength(csvHeader);
    const csvFd = openFile(csvPath, 'r+');
    try {
      const size = fstatSync(csvFd).size;
      if (size < limit) throw new HarnessError(`${csvPath} holds ${size} bytes but the journal vouches for ${limit}; the run directory is damaged`);
      if (size > limit) withFile('truncate', csvPath, () => {
        ftruncateSync(csvFd, limit);
        fsyncSync(csvFd);
      });
    } finally {
      closeSync(csvFd);
    }
    return new RunWriter(dir, runId, openFile(csvPath, 'a'), openFile(journalPath, 'a'));
  }

  /** Appends a finished job: its rows (ok jobs), then its journal line. Returns the journal entry. */
  appendJob(f: FinishedJob): JournalEntry {
    const rows = f.status === 'ok' ? toRows(f.job, f.measurements ?? [], { runId: this.runId, device: f.device }) : [];
    return this.appendRows(f.job, rows, {
      status: f.status,
      seconds: f.seconds,
      device: f.device,
      ...(f.error !== undefined && { error: f.error }),
      ...(f.code !== undefined && { code: f.code }),
    });
  }

  /** Appends rows as they are (merge) and the job's journal line. */
  appendRows(job: Pick<Job, 'id' | 'task'> & Partial<Job>, rows: readonly ResultRow[],
    e: Pick<JournalEntry, 'status' | 'seconds' | 'device' | 'error' | 'code'> & { label?: string; finishedAt?: string }): JournalEntry {
    if (rows.length) appendSynced(this.csvFd, rowsToCsv(rows), runPath(this.dir, 'results'));
    const entry: JournalEntry = {
      jobId: job.id,
      status: e.status,
      ...(e.error !== undefined && { error: e.error }),
      ...(e.code !== undefined && { code: e.code }),
      seconds: e.seconds,
      rows: rows.length,
      finishedAt: e.finishedAt ?? new Date().toISOString(),
      csvBytes: fstatSync(this.csvFd).size,
      task: job.task,
      label: e.label ?? (job.method ? jobLabel(job as Job) : job.id),
      device: e.device,
    };
    appendSynced(this.journalFd, `${JSON.stringify(entry)}\n`, runPath(this.dir, 'journal'));
    return entry;
  }

  close(): void {
    closeSync(this.csvFd);
    closeSync(this.journalFd);
  }
}
