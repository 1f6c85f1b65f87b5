// meta.json: where every number of a run comes from. Written when the run starts, updated when a
// worker reports its model and when the run ends (atomically: temp file, fsync, rename).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { execa } from 'execa';
import { UsageError } from '../core/errors.js';
import { writeFileAtomic } from '../core/files.js';
import type { Suite } from '../config/suite.js';
import { packageRoot } from '../config/defaults.js';
import type { BuildInfo } from '../native/addon.js';
import type { Shard } from '../core/job.js';
import { runPath } from './rundir.js';

/** A model of the run as a worker loaded it. */
export interface LoadedModelInfo {
  path: string;
  sha256?: string;
  config: Record<string, unknown>;
}

export type RunStatus = 'running' | 'completed' | 'completed-with-failures' | 'interrupted' | 'failed' | 'merged';

export interface RunMeta {
  schemaVersion: 1;
  runId: string;
  suite: string;
  status: RunStatus;
  /** The command line as typed (argv after node and the script), and as an array. */
  commandLine: string;
  argv: string[];
  git: { commit: string; dirty: boolean };
  node: string;
  package: { name: string; version: string };
  /** The native addon's buildInfo(), or why it could not be read. */
  native: BuildInfo | { error: string };
  backend: string;
  device: { kind: 'cpu' | 'cuda'; names: string[]; hardware: string[]; driverVersion: number | null };
  /** Per model of the run (canonical name): the file, its sha256 and configuration, as a worker loaded it. */
  models: Record<string, LoadedModelInfo>;
  /** Per worker device ('cuda:0'): what its jobs found out about it and about how they measured
   *  (driver, runtime, L2 size, copy bandwidth, the stopping rule, NVML clocks), the latest value per key. */
  facts?: Record<string, Record<string, unknown>>;
  seed: number;
  shard: Shard | null;
  plan: { hash: string; totalJobs: number; jobsInRun: number; skippedAboveLength: number };
  /** Options that shape the run beside the suite (device request, selected tasks, data dir). */
  options: { device: string; devices?: number[]; tasks?: string[]; dataDir?: string; threads?: number; weights?: string; kvCache?: string; jobTimeout?: number };
  /** The suite as run: the file with every command-line override applied (resume re-plans from it). */
  suiteDefinition: Suite;
  startedAt: string;
  endedAt: string | null;
  resumes: { at: string; commandLine: string }[];
  counts: { ok: number; failed: number; pending: number };
  /** For a merged run: the run directories it was made of. */
  mergedFrom?: { dir: string; runId: string; shard: Shard | null }[];
}

export function writeMeta(dir: string, meta: RunMeta): void {
  writeFileAtomic(runPath(dir, 'meta'), `${JSON.stringify(meta, null, 2)}\n`);
}

export function readMeta(dir: string): RunMeta {
  const path = runPath(dir, 'meta');
  if (!existsSync(path)) throw new UsageError(`${dir} is not a run directory (no meta.json)`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as RunMeta;
  } catch (err) {
    throw new UsageError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
}

export function packageInfo(): { name: string; version: string } {
  const pkg = createRequire(import.meta.url)('../../package.json') as { name: string; version: string };
  return { name: pkg.name, version: pkg.version };
}

/** The harness's git commit and whether tracked files differ from it ('' when not a git checkout). */
export async function gitInfo(dir: string = packageRoot): Promise<{ commit: string; dirty: boolean }> {
  const head = await execa('git', ['-C', dir, 'rev-parse', 'HEAD'], { reject: false });
  if (head.exitCode !== 0) return { commit: '', dirty: false };
  const status = await execa('git', ['-C', dir, 'status', '--porcelain', '--untracked-files=no'], { reject: false });
  return { commit: String(head.stdout).trim(), dirty: String(status.stdout).trim() !== '' };
}

/** argv quoted for a shell, so the line can be pasted back. */
export function shellLine(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
