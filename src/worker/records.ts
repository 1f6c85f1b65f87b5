// What the engine recorded during a job's sparse decode steps (--measure-recall,
// --record-selection): a `recall` measurement for the results table, and the full records
// (per step, layer and head) in <run>/records/<job id>.json for analysis (results/records.ts),
// with what the decode instruments add (--record-logits, --replay-selection).
import { makeDirectory, writeWholeFile } from '../core/files.js';
import { methodLabel } from '../methods/spec.js';
import type { ModelConfig, NativeEngine } from '../native/addon.js';
import type { Job, Measurement } from '../core/job.js';
import { recordsDir, recordsPath, type JobRecords } from '../results/records.js';

export function collectRecords(engine: NativeEngine, config: ModelConfig, job: Job, runDir?: string, extra?: Partial<JobRecords>): Measurement[] {
  const rec = engine.records({ clear: true });
  if (!rec.recall && !rec.selected && !extra) return [];
  const { nLayers: layers, nHeads: heads } = config;
  const out: Measurement[] = [];
  if (rec.recall) {
    let sum = 0;
    let n = 0;
    const perLayer = Array.from({ length: layers }, () => ({ sum: 0, n: 0 }));
    rec.recall.forEach((v, i) => {
      if (Number.isNaN(v)) return;  // a dense layer or step
      sum += v;
      n++;
      const l = perLayer[Math.floor(i / heads) % layers];
      l.sum += v;
      l.n++;
    });
    if (n > 0) {
      const layerMeans = perLayer.map((l) => (l.n ? Number((l.sum / l.n).toFixed(4)) : null));
      out.push({ metric: 'recall', value: sum / n, unit: '', n, detail: `per layer: ${JSON.stringify(layerMeans)}` });
    }
  }
  if (runDir) {
    makeDirectory(recordsDir(runDir));
    writeWholeFile(recordsPath(runDir, job.id), JSON.stringify({
      jobId: job.id,
      label: methodLabel(job.method),
      layers,
      heads,
      positions: Array.from(rec.positions),
      // [step][layer][head], null where the layer attended densely
      ...(rec.recall && { recall: Array.from(rec.recall, (v) => (Number.isNaN(v) ? null : Number(v.toFixed(5)))) }),
      ...(rec.selected && { selected: rec.selected.map((step) => step.map((idx) => Array.from(idx))) }),
      ...extra,
    } satisfies JobRecords));
  }
  return out;
}
