// adamas-bench merge: shard runs of one plan (--shard i/n on several machines) -> one run directory.
// The inputs must share the suite and the plan hash; a job may appear in one input only.
import { existsSync, readdirSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import { makeDirectory } from '../core/files.js';
import { RunLock } from './lock.js';
import { writeMeta, type RunMeta } from './meta.js';
import { runFiles } from './rundir.js';
import { readJobs, readRun, type RunData } from './read.js';
import { RunWriter } from './write.js';

export interface MergeResult {
  dir: string;
  jobs: number;
  ok: number;
  failed: number;
  pending: number;
  /** Shard numbers of the plan that no input holds. */
  missingShards: number[];
}

export function mergeRuns(dirs: readonly string[], out: string, commandLine: string, argv: string[]): MergeResult {
  if (dirs.length === 0) throw new UsageError('merge needs at least one run directory');
  if (existsSync(out) && readdirSync(out).length > 0) throw new UsageError(`${out} already exists and is not empty; choose another --out`);
  const runs: { data: RunData; jobs: ReturnType<typeof readJobs> }[] = dirs.map((d) => ({ data: readRun(d), jobs: readJobs(d) }));
  const first = runs[0].data;
  for (const { data } of runs.slice(1)) {
    if (data.meta.suite !== first.meta.suite)
      throw new UsageError(`${data.dir} is a run of suite '${data.meta.suite}', ${first.dir} of '${first.meta.suite}'`);
    if (data.meta.plan.hash !== first.meta.plan.hash)
      throw new UsageError(`${data.dir} and ${first.dir} are not shards of one plan (plan ${data.meta.plan.hash} vs ${first.meta.plan.hash})`,
        'shards must come from the same command line with different --shard i/n');
  }
  const shardOwner = new Map<number, string>();
  let count: number | undefined;
  for (const { data } of runs) {
    const s = data.meta.shard;
    if (!s) continue;
    if (count !== undefined && s.count !== count) throw new UsageError(`${data.dir} is shard ${s.index}/${s.count}, the others are of ${count}`);
    count = s.count;
    const other = shardOwner.get(s.index);
    if (other) throw new UsageError(`${other} and ${data.dir} are both shard ${s.index}/${s.count}`);
    shardOwner.set(s.index, data.dir);
  }
  const owner = new Map<string, string>();
  for (const { data, jobs } of runs)
    for (const j of jobs) {
      const prev = owner.get(j.id);
      if (prev) throw new UsageError(`job ${j.id} is in both ${prev} and ${data.dir}`, 'each job must come from one shard only');
      owner.set(j.id, data.dir);
    }

  const runId = basename(resolve(out));
  const allJobs = runs.flatMap((r) => r.jobs);
  makeDirectory(out);
  const lock = RunLock.acquire(out, commandLine, (m) => process.stderr.write(`${m}\n`));
  try {
    if (readdirSync(out).some((f) => f !== runFiles.lock)) throw new UsageError(`${out} already exists and is not empty; choose another --out`);
    return writeMerged(runs, out, runId, allJobs, count, shardOwner, commandLine, argv);
  } finally {
    lock.release();
  }
}

function writeMerged(runs: { data: RunData; jobs: ReturnType<typeof readJobs> }[], out: string, runId: string, allJobs: ReturnType<typeof readJobs>,
  count: number | undefined, shardOwner: Map<number, string>, commandLine: string, argv: string[]): MergeResult {
  const first = runs[0].data;
  const writer = RunWriter.create(out, runId, allJobs);
  let ok = 0;
  let failed = 0;
  try {
    for (const { data, jobs } of runs) {
      const rowsOf = new Map<string, RunData['rows']>();
      for (const r of data.rows) {
        let list = rowsOf.get(r.job_id);
        if (!list) rowsOf.set(r.job_id, (list = []));
        list.push({ ...r, run_id: runId });
      }
      for (const job of jobs) {
        const e = data.latest.get(job.id);
        if (!e) continue;
        writer.appendRows(job, e.status === 'ok' ? rowsOf.get(job.id) ?? [] : [], {
          status: e.status, seconds: e.seconds, device: e.device, label: e.label, finishedAt: e.finishedAt,
          ...(e.error !== undefined && { error: e.error }), ...(e.code !== undefined && { code: e.code }),
        });
        if (e.status === 'ok') ok++;
        else failed++;
      }
    }
  } finally {
    writer.close();
  }
  const missingShards = count ? Array.from({ length: count }, (_, i) => i + 1).filter((i) => !shardOwner.has(i)) : [];
  const metas = runs.map((r) => r.data.meta);
  const meta: RunMeta = {
    ...first.meta,
    runId,
    status: 'merged',
    commandLine,
    argv,
    models: Object.assign({}, ...metas.map((m) => m.models)),
    device: {
      kind: first.meta.device.kind,
      names: [...new Set(metas.flatMap((m) => m.device.names))],
      hardware: [...new Set(metas.flatMap((m) => m.device.hardware))],
      driverVersion: first.meta.device.driverVersion,
    },
    shard: null,
    plan: { ...first.meta.plan, jobsInRun: allJobs.length },
    startedAt: metas.map((m) => m.startedAt).sort()[0],
    endedAt: metas.map((m) => m.endedAt ?? '').sort().at(-1) || null,
    resumes: [],
    counts: { ok, failed, pending: allJobs.length - ok - failed },
    mergedFrom: runs.map((r) => ({ dir: r.data.dir, runId: r.data.meta.runId, shard: r.data.meta.shard })),
  };
  writeMeta(out, meta);
  return { dir: out, jobs: allJobs.length, ok, failed, pending: allJobs.length - ok - failed, missingShards };
}
