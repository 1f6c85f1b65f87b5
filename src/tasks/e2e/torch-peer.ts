// e2e's peer: scripts/peers/llama_decode.py, a Llama decoder in PyTorch (SDPA over a static fp16
// KV cache, the step captured in a CUDA graph) with random weights of the synthetic preset's
// shape, timed on the same GPU in the same run: one context length a job, rows of method
// 'peer:torch' beside ours.
import type { Job, Measurement } from '../../core/job.js';
import { syntheticPrefix } from '../../model/synthetic.js';
import { numbers, peerScripts, runPeer, skipRow, type PeerLine } from '../common/peers.js';
import type { RunContext } from '../types.js';
import { decodeLatencyRows, floorRows, prefillRows } from './rows.js';

/** The rows of llama_decode.py's lines for one context length. */
export function torchPeerRows(lines: readonly PeerLine[], contextLen: number): Measurement[] {
  const mine = lines.filter((l) => l.context_len === contextLen || l.skipped !== undefined);
  const skipped = mine.find((l) => typeof l.skipped === 'string');
  if (skipped) return [skipRow(`llama_decode.py: ${String(skipped.skipped)}`)];
  const out: Measurement[] = [];
  const prefill = mine.find((l) => typeof l.prefill_s === 'number');
  if (prefill) out.push(...prefillRows(contextLen, prefill.prefill_s as number, 'PyTorch causal prefill (SDPA), CUDA events'));
  const decode = mine.find((l) => numbers(l.decode_ms) !== undefined);
  const ms = decode && numbers(decode.decode_ms);
  if (!decode || !ms) return [...out, skipRow(`llama_decode.py printed no decode timing for context_len ${contextLen}`)];
  const rows = decodeLatencyRows(ms, 'CUDA events around each replayed graph (PyTorch)');
  out.push(...rows);
  const { bytes_per_token: bytes, floor_ms: floorMs, copy_gbs: copyGBs } = decode;
  if (typeof bytes === 'number' && typeof floorMs === 'number' && typeof copyGBs === 'number')
    out.push(...floorRows({ bytes, floorMs, copyGBs, kvLen: contextLen }, rows[0]!.value));
  return out;
}

export async function runTorchPeer(job: Job, ctx: RunContext): Promise<Measurement[]> {
  if (ctx.device !== 'cuda') return [skipRow('the PyTorch peer runs on CUDA only; this run is on the CPU')];
  const args = ['--model', job.model.slice(syntheticPrefix.length), '--context-lens', String(job.contextLen),
    '--steps', String(job.params.decode), '--prefill', String(job.contextLen), '--seed', String(job.seed)];
  const outcome = await runPeer(peerScripts.decode, args);
  if (!outcome.ok) {
    ctx.log(`peer:torch skipped: ${outcome.skipped}`);
    return [skipRow(outcome.skipped)];
  }
  const line = outcome.lines.find((l) => typeof l.torch === 'string');
  if (line) ctx.recordFacts({ 'peer:torch': { torch: line.torch, device: line.device } });
  return torchPeerRows(outcome.lines, job.contextLen);
}
