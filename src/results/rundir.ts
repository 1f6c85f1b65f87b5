// The run directory: what a run writes, and where.
//
//   <dir>/results.csv     tidy rows (src/results/columns.ts), appended job by job
//   <dir>/journal.jsonl   one line per finished job: {jobId, status, error?, seconds, rows, finishedAt, csvBytes, ...}
//   <dir>/jobs.jsonl      the jobs of this run (the plan, after --shard), one JSON object a line
//   <dir>/meta.json       provenance: git commit, command line, versions, device, model sha256, seeds
//   <dir>/logs/worker-<n>.log   stderr of each worker process
//   <dir>/run.lock        while a run writes the directory: its pid, host, start time (results/lock.ts)
//
// The journal rule: a job's rows count only when its latest journal line says 'ok', and only the
// first `csvBytes` bytes of results.csv (as recorded by the last journal line) are read. Rows
// written by a job whose journal line never came (a crash in between) are thus ignored, and a
// resumed run cuts them off before appending. A journal line that cannot be read (torn by a crash,
// or garbled) counts as no line: its job is not done, and its rows are not read (read.ts takes, for
// a job's latest line, only the last `rows` rows of that job before the line's csvBytes).
import { join } from 'node:path';

export const runFiles = {
  results: 'results.csv',
  journal: 'journal.jsonl',
  jobs: 'jobs.jsonl',
  meta: 'meta.json',
  logs: 'logs',
  lock: 'run.lock',
} as const;

export function runPath(dir: string, file: keyof typeof runFiles): string {
  return join(dir, runFiles[file]);
}

/** 2025-01-02T03:04:05.678Z -> 20250102T030405Z */
export function utcStamp(d: Date = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** results/runs/<suite>-<UTC timestamp>, relative to the working directory. */
export function defaultRunDir(suite: string, now: Date = new Date()): string {
  return join('results', 'runs', `${suite}-${utcStamp(now)}`);
}
