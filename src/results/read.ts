// Reading results back (report, compare, merge, the end-of-run summary). readRun applies the
// journal rule (rundir.ts): only rows of jobs whose latest journal line is 'ok', and only the part
// of results.csv that the last journal line vouches for.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { UsageError } from '../core/errors.js';
import { resultColumns, type ResultRow } from './columns.js';
import { latestEntries, readJournalFile, type JournalEntry } from './journal.js';
import { readMeta, type RunMeta } from './meta.js';
import type { Job } from '../core/job.js';
import { runPath } from './rundir.js';

function parseRows(text: string, source: string): ResultRow[] {
  let records: Record<string, string>[];
  try {
    records = parse(text, { columns: true, skip_empty_lines: true, relax_column_count: false }) as Record<string, string>[];
  } catch (err) {
    throw new UsageError(`${source} is not a valid CSV file: ${(err as Error).message}`);
  }
  if (records.length === 0) {
    const header = text.split('\n', 1)[0] ?? '';
    const missing = resultColumns.filter((c) => !header.split(',').includes(c));
    if (header !== '' && missing.length) throw new UsageError(`${source} lacks the columns ${missing.join(', ')}`);
    return [];
  }
  const missing = resultColumns.filter((c) => !(c in records[0]));
  if (missing.length) throw new UsageError(`${source} lacks the columns ${missing.join(', ')}`);
  return records.map((r) => Object.fromEntries(resultColumns.map((c) => [c, r[c]])) as ResultRow);
}

/**
 * Rows of a results CSV file as they are (no journal rule: use readRun for a run directory).
 * `maxBytes` reads only the file's first bytes.
 */
export function readResultsFile(path: string, opts: { maxBytes?: number } = {}): ResultRow[] {
  if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`${path}: no such results file`);
  let buf = readFileSync(path);
  if (opts.maxBytes !== undefined && buf.length > opts.maxBytes) buf = buf.subarray(0, opts.maxBytes);
  return parseRows(buf.toString('utf8'), path);
}

export interface RunData {
  dir: string;
  meta: RunMeta;
  /** Rows of the jobs whose latest journal line is ok. */
  rows: ResultRow[];
  /** Every readable journal line, in order (a retried job appears more than once). */
  journal: JournalEntry[];
  /** The latest journal line of each job. */
  latest: Map<string, JournalEntry>;
  /** 1-based numbers of journal lines that could not be read (their jobs count as not run). */
  unreadableJournalLines: number[];
}

/**
 * The rows each journal line vouches for: for the latest line of each job, when it is ok, the last
 * `rows` rows of its job written before its csvBytes. Rows no readable line vouches for (a crash
 * before the journal line, a line that was garbled, an earlier attempt of a job run again) are
 * never read, so a job is never counted twice.
 */
function vouchedRows(path: string, journal: readonly JournalEntry[], latest: ReadonlyMap<string, JournalEntry>): ResultRow[] {
  const buf = readFileSync(path);
  const headerEnd = buf.indexOf(0x0a) + 1;
  if (headerEnd === 0) return [];
  parseRows(buf.subarray(0, headerEnd).toString('utf8'), path); // the header has every column
  const columns = buf.subarray(0, headerEnd - 1).toString('utf8').replace(/\r$/, '').split(',');
  // the file cut at every journal line's csvBytes: a row's end is the first cut after it
  const rows: { row: Record<string, string>; end: number }[] = [];
  let start = headerEnd;
  for (const e of journal) {
    const end = Math.min(e.csvBytes, buf.length);
    if (end <= start) continue;
    let records: Record<string, string>[];
    try {
      records = parse(buf.subarray(start, end), { columns, skip_empty_lines: true, relax_column_count: false }) as Record<string, string>[];
    } catch (err) {
      throw new UsageError(`${path}: bytes ${start}..${end} are not valid CSV rows: ${(err as Error).message}`,
        'results.csv was changed after the run wrote it');
    }
    for (const row of records) rows.push({ row, end });
    start = end;
  }
  const byJob = new Map<string, number[]>();
  rows.forEach(({ row }, i) => {
    const list = byJob.get(row.job_id);
    if (list) list.push(i);
    else byJob.set(row.job_id, [i]);
  });
  const keep = new Set<number>();
  for (const e of latest.values()) {
    if (e.status !== 'ok' || e.rows <= 0) continue;
    const mine = (byJob.get(e.jobId) ?? []).filter((i) => rows[i]!.end <= e.csvBytes);
    for (const i of mine.slice(-e.rows)) keep.add(i);
  }
  return rows.filter((_, i) => keep.has(i)).map(({ row }) => Object.fromEntries(resultColumns.map((c) => [c, row[c]])) as ResultRow);
}

export function readRun(dir: string): RunData {
  const meta = readMeta(dir);
  const { entries: journal, unreadable } = readJournalFile(runPath(dir, 'journal'));
  const latest = latestEntries(journal);
  const csv = runPath(dir, 'results');
  const rows = journal.length && existsSync(csv) ? vouchedRows(csv, journal, latest) : [];
  return { dir, meta, rows, journal, latest, unreadableJournalLines: unreadable };
}

/** The jobs of a run (jobs.jsonl). */
export function readJobs(dir: string): Job[] {
  const path = runPath(dir, 'jobs');
  if (!existsSync(path)) throw new UsageError(`${dir} has no jobs.jsonl; it is not a run directory`);
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Job);
}
