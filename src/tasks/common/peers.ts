// Other implementations timed in the same run (`--peers`): the Python scripts of scripts/peers/,
// run with the worker's Python (ADAMAS_BENCH_PYTHON, else python3) on the worker's GPU (its
// CUDA_VISIBLE_DEVICES), each printing one JSON object a line. A peer that cannot run here (no
// Python, no torch, no CUDA device for torch, a library that does not import, a script that
// fails) is a skip row saying why, never a failed job.
import { join } from 'node:path';
import { execa } from 'execa';
import { packageRoot } from '../../config/defaults.js';
import type { Measurement } from '../../core/job.js';

export const peerScripts = {
  /** torch SDPA and FlashInfer decode attention */
  attention: 'decode_attention.py',
  /** a Llama decoder in PyTorch, the step in a CUDA graph */
  decode: 'llama_decode.py',
} as const;

export type PeerScript = (typeof peerScripts)[keyof typeof peerScripts];

export function peerScriptPath(script: PeerScript, root = packageRoot): string {
  return join(root, 'scripts', 'peers', script);
}

export function peerPython(): string {
  return process.env.ADAMAS_BENCH_PYTHON || 'python3';
}

/** One JSON line of a peer script. */
export type PeerLine = Record<string, unknown>;

export type PeerOutcome =
  | { ok: true; lines: PeerLine[]; stderr: string[] }
  | { ok: false; skipped: string };

const torchCheck = 'import torch; assert torch.cuda.is_available(), "torch sees no CUDA device"';

/** The last non-empty lines of a process's output. */
function lastLines(text: string, n = 1): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '').slice(-n);
}

const probes = new Map<string, Promise<string | undefined>>();

/** Why torch cannot run on a GPU with `python` (undefined when it can); asked once per process. */
export function torchUnavailable(python = peerPython()): Promise<string | undefined> {
  let p = probes.get(python);
  if (!p) {
    p = execa(python, ['-c', torchCheck], { reject: false, timeout: 120_000, all: true }).then((r) => {
      if ((r as { code?: string }).code === 'ENOENT') return `${python} was not found (set ADAMAS_BENCH_PYTHON to a Python with torch)`;
      if (r.exitCode === 0) return undefined;
      const why = lastLines(String(r.all ?? ''))[0] ?? (r.timedOut ? 'timed out' : `exit code ${r.exitCode}`);
      return `${python} -c "import torch; assert torch.cuda.is_available()" failed: ${why}`;
    });
    probes.set(python, p);
  }
  return p;
}

/** Parses a peer script's stdout: the JSON object lines (anything else is not protocol: left out). */
export function parsePeerLines(stdout: string): PeerLine[] {
  const out: PeerLine[] = [];
  for (const line of stdout.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    try {
      const v = JSON.parse(t) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) out.push(v as PeerLine);
    } catch {
      // a torn or foreign line
    }
  }
  return out;
}

/**
 * Runs a peer script with `args` once torch can run on the GPU: its JSON lines, or why it was skipped.
 * A script that exits non-zero counts as skipped unless it printed lines (they are kept; the cases
 * without a line are the caller's to report as skipped).
 */
export async function runPeer(script: PeerScript, args: readonly string[], opts: { python?: string; timeoutMs?: number; root?: string } = {}):
  Promise<PeerOutcome> {
  const python = opts.python ?? peerPython();
  const unavailable = await torchUnavailable(python);
  if (unavailable) return { ok: false, skipped: unavailable };
  const r = await execa(python, [peerScriptPath(script, opts.root), ...args], { reject: false, timeout: opts.timeoutMs, maxBuffer: 64 << 20 });
  const lines = parsePeerLines(String(r.stdout ?? ''));
  const stderr = lastLines(String(r.stderr ?? ''), 8);
  if (r.exitCode !== 0 && lines.length === 0) {
    const how = r.timedOut ? `timed out after ${Math.round((opts.timeoutMs ?? 0) / 1000)} s` : `exit code ${r.exitCode ?? r.signal}`;
    return { ok: false, skipped: `${script} failed (${how})${stderr.length ? `: ${stderr.at(-1)}` : ''}` };
  }
  return { ok: true, lines, stderr };
}

/** The row that says a peer was not measured, and why (value 1, so that it counts in a summary). */
export function skipRow(reason: string): Measurement {
  return { metric: 'skipped', value: 1, unit: '', n: 1, detail: reason };
}

/** Numbers of a line's field, when it is an array of finite numbers. */
export function numbers(v: unknown): number[] | undefined {
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isFinite(x)) ? (v as number[]) : undefined;
}
