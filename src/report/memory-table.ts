// "Which models fit": the dry run's table on CUDA of what each model of the plan needs on the GPU
// at each context length (fp16 weights, and the KV cache of the job's prompt and new tokens),
// against the memory of the smallest visible GPU.
import { formatBytes } from '../model/footprint.js';
import { formatTable } from './terminal.js';

/** Device memory a job needs beside its weights and KV cache: activations, cuBLAS workspaces, the
 *  CUDA context (an allowance, not a measurement). */
export const deviceReserveBytes = 2 * 2 ** 30;

export interface ModelMemory {
  model: string;
  /** Bytes of its weights on the GPU; undefined when the model could not be sized here. */
  weights?: number;
  /** Why it could not be sized. */
  unknown?: string;
  /** Per context length: the KV bytes of the longest job there. */
  kv: Map<number, number>;
}

export interface MemoryPlan {
  /** The GPU the jobs must fit; undefined when none is visible here. */
  device?: { name: string; totalBytes: number };
  lengths: number[];
  models: ModelMemory[];
}

/** Whether weights + KV + the reserve fit the device ('' when no device is known). */
export function fits(total: number, device: MemoryPlan['device']): '' | 'fits' | 'does not fit' {
  if (!device) return '';
  return total + deviceReserveBytes <= device.totalBytes ? 'fits' : 'does not fit';
}

export function formatMemoryPlan(p: MemoryPlan): string {
  const where = p.device
    ? `the smallest visible GPU, ${p.device.name} with ${formatBytes(p.device.totalBytes)}, less ${formatBytes(deviceReserveBytes)} for activations and workspaces`
    : 'no CUDA device is visible here: compare with the memory of yours';
  const rows = p.models.map((m) => {
    if (m.weights === undefined) return [m.model, '?', ...p.lengths.map(() => '?')];
    return [m.model, formatBytes(m.weights), ...p.lengths.map((len) => {
      const kv = m.kv.get(len);
      if (kv === undefined) return '-';
      const verdict = fits(m.weights! + kv, p.device);
      return `+${formatBytes(kv)} = ${formatBytes(m.weights! + kv)}${verdict ? ` ${verdict}` : ''}`;
    })];
  });
  const unknown = p.models.filter((m) => m.unknown).map((m) => `${m.model}: ${m.unknown}`);
  return [
    `GPU memory per job (fp16 weights + KV cache of the prompt and new tokens; ${where}):`,
    formatTable(['model', 'weights', ...p.lengths.map((l) => `len=${l}`)], rows),
    ...unknown,
  ].join('\n');
}
