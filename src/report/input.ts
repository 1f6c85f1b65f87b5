// What report and compare read: a run directory (journal rule applied: only rows of jobs whose
// latest journal line is ok) or a bare results CSV file (taken as it is).
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';
import type { ResultRow } from '../results/columns.js';
import type { RunMeta } from '../results/meta.js';
import { readResultsFile, readRun } from '../results/read.js';

export interface LoadedInput {
  path: string;
  kind: 'run' | 'file';
  rows: ResultRow[];
  /** meta.json of a run directory (partial in older or hand-made runs). */
  meta?: Partial<RunMeta>;
  /** Jobs whose latest journal line is 'failed' (their rows, if any, are left out). */
  failedJobs: number;
}

export function loadInput(path: string): LoadedInput {
  if (!existsSync(path)) throw new UsageError(`${path}: no such file or directory`);
  if (statSync(path).isDirectory()) {
    if (!existsSync(join(path, 'meta.json')))
      throw new UsageError(
        `${path} is not a run directory (no meta.json)`,
        existsSync(join(path, 'results.csv')) ? `pass ${join(path, 'results.csv')} to read its rows without the journal` : undefined,
      );
    const run = readRun(path);
    const failedJobs = [...run.latest.values()].filter((e) => e.status !== 'ok').length;
    return { path, kind: 'run', rows: run.rows, meta: run.meta, failedJobs };
  }
  return { path, kind: 'file', rows: readResultsFile(path), failedJobs: 0 };
}
