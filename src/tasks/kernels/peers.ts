// The kernels task's peers: torch SDPA and FlashInfer decode attention (scripts/peers/
// decode_attention.py) at the shape, KV length and batch of a job, under the same stopping rule,
// cold and hot samples as ours: rows of method 'peer:sdpa' / 'peer:flashinfer' beside ours.
import { median } from 'simple-statistics';
import type { Job, Measurement } from '../../core/job.js';
import { thin } from '../common/measure.js';
import { numbers, peerScripts, runPeer, skipRow, type PeerLine } from '../common/peers.js';
import type { RunContext } from '../types.js';

export const kernelPeers = ['sdpa', 'flashinfer'] as const;
export type KernelPeer = (typeof kernelPeers)[number];

const round = (x: number) => Number(x.toPrecision(5));

export interface PeerCase {
  peer: string;
  nHeads: number;
  nKvHeads: number;
  headDim: number;
  kvLen: number;
  batch: number;
}

function matches(l: PeerLine, c: PeerCase): boolean {
  if (l.peer !== c.peer) return false;
  // a line without a case skips every case (torch missing)
  if (l.kv_len === undefined) return l.skipped !== undefined;
  return l.n_heads === c.nHeads && l.n_kv_heads === c.nKvHeads && l.head_dim === c.headDim && l.kv_len === c.kvLen && l.batch === c.batch;
}

/** The rows of decode_attention.py's line for one case. */
export function attentionPeerRows(lines: readonly PeerLine[], c: PeerCase): Measurement[] {
  const line = lines.find((l) => matches(l, c));
  if (!line) return [skipRow(`decode_attention.py printed nothing for ${c.peer} at ${c.nHeads}x${c.nKvHeads}x${c.headDim}, kv_len ${c.kvLen}, batch ${c.batch}`)];
  if (typeof line.skipped === 'string') return [skipRow(line.skipped)];
  const cold = numbers(line.cold_us);
  if (!cold) return [skipRow(`decode_attention.py gave ${c.peer} no samples at kv_len ${c.kvLen}, batch ${c.batch}`)];
  const notes = [
    typeof line.max_rel_err === 'number' ? `max relative error ${line.max_rel_err.toPrecision(2)} against fp32 attention` : '',
    line.timed_out === true ? 'stopped by the timeout before the noise target' : '',
  ].filter((s) => s !== '');
  const out: Measurement[] = [{ metric: 'latency_us.total', value: round(median(cold)), unit: 'us', n: cold.length, samples: thin(cold).map(round),
    detail: ['cold: an L2-sized buffer rewritten before each sample', ...notes].join('; ') }];
  const hot = numbers(line.hot_us);
  const count = (line.rule as { hot_count?: unknown } | undefined)?.hot_count;
  if (hot) out.push({ metric: 'latency_hot_us.total', value: round(median(hot)), unit: 'us', n: hot.length, samples: thin(hot).map(round),
    detail: [`each sample: ${typeof count === 'number' ? count : 'several'} calls back to back, divided by their count`, ...notes].join('; ') });
  return out;
}

/** The case of a kernels job, as the peer script takes it. */
export function peerCase(job: Job): PeerCase {
  const p = job.params;
  return { peer: job.peer ?? '', nHeads: Number(p.nHeads), nKvHeads: Number(p.nKvHeads), headDim: Number(p.headDim), kvLen: job.contextLen,
    batch: Number(p.batch ?? 1) };
}

export async function runAttentionPeer(job: Job, ctx: RunContext): Promise<Measurement[]> {
  const c = peerCase(job);
  if (ctx.device !== 'cuda') return [skipRow(`peer:${c.peer} runs on CUDA only; this run is on the CPU`)];
  if (job.params.seqLens !== undefined && new Set(String(job.params.seqLens).split('/')).size > 1)
    return [skipRow(`decode_attention.py times sequences of one length; this case's are ${String(job.params.seqLens)} (--length-spread 0 to compare)`)];
  const p = job.params;
  const args = ['--peers', c.peer, '--shapes', `${c.nHeads}x${c.nKvHeads}x${c.headDim}`, '--kv-lens', String(c.kvLen), '--batch', String(c.batch),
    '--min-samples', String(p.minSamples), '--min-time', String(p.minTime), '--max-noise', String(p.maxNoise), '--timeout', String(p.timeout),
    '--hot-count', String(p.hotRuns ?? 10), '--seed', String(job.seed)];
  const outcome = await runPeer(peerScripts.attention, args);
  if (!outcome.ok) {
    ctx.log(`peer:${c.peer} skipped: ${outcome.skipped}`);
    return [skipRow(outcome.skipped)];
  }
  const line = outcome.lines.find((l) => l.peer === c.peer && typeof l.torch === 'string');
  if (line) ctx.recordFacts({ [`peer:${c.peer}`]: { torch: line.torch, device: line.device, rule: line.rule } });
  const rows = attentionPeerRows(outcome.lines, c);
  const skipped = rows.find((r) => r.metric === 'skipped');
  if (skipped) ctx.log(`peer:${c.peer} skipped: ${skipped.detail}`);
  return rows;
}
