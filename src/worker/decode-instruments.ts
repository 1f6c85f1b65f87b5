// The engine as the tasks of a worker see it, with the decode instruments of a job:
//   --record-logits: at every decode step, the 20 largest logits (ids and values), the chosen
//     token's logit and its margin (top-1 minus top-2), kept for the job's records;
//   --replay-selection <run>: before every decode step that the recorded job took, the recorded
//     lists of that position go to replayNext, so the step attends over them instead of selecting.
// Everything else goes straight to the engine. With logits recorded, every step's logits leave
// the device (on the GPU: a copy of the vocabulary's floats a step).
import { UsageError } from '../core/errors.js';
import type { Job } from '../core/job.js';
import type { EngineRecords, ModelConfig, NativeAttentionOptions, NativeEngine } from '../native/addon.js';
import type { JobRecords, LogitsStep, ReplayNote } from '../results/records.js';
import { recordedJob, recordedModelDigest, replays, type ReplaySource } from '../results/replay-source.js';

export const recordedTopK = 20;

/** The k largest logits, largest first (ties: the smaller id first). */
export function topLogits(logits: Float32Array, k: number): { ids: number[]; values: number[] } {
  const ids: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i];
    if (ids.length === k && !(v > values[k - 1])) continue;
    let j = Math.min(ids.length, k - 1);
    while (j > 0 && v > values[j - 1]) j--;
    ids.splice(j, 0, i);
    values.splice(j, 0, v);
    if (ids.length > k) {
      ids.pop();
      values.pop();
    }
  }
  return { ids, values };
}

export interface InstrumentOptions {
  recordLogits?: boolean;
  replay?: ReplaySource;
}

interface JobReplay {
  note: ReplayNote;
  /** position -> the recorded lists of that step ([layers * heads]; sparse steps only). */
  lists: Map<number, Int32Array[]>;
  /** Positions of every step the recorded job took (dense ones too). */
  recorded: Set<number>;
  /** position -> the recorded logits of that step, when the recorded run had --record-logits. */
  logits: Map<number, LogitsStep>;
}

export class InstrumentedEngine implements NativeEngine {
  private steps: LogitsStep[] = [];
  private replay: JobReplay | undefined;

  constructor(private readonly inner: NativeEngine, private readonly opts: InstrumentOptions) {}

  /** Refuses a recorded run of another model file (when both digests are known). */
  checkModel(model: string, sha256: string | undefined): void {
    const source = this.opts.replay;
    const recorded = source && recordedModelDigest(source, model);
    if (recorded && sha256 && recorded !== sha256)
      throw new UsageError(`--replay-selection ${source.dir}: the recorded run loaded model '${model}' with sha256 ${recorded}, this run loads ${sha256}`);
  }

  /** Starts a job: no logits kept yet, the recorded lists of its twin loaded. */
  beginJob(job: Job): void {
    this.steps = [];
    this.replay = undefined;
    const source = this.opts.replay;
    if (!source || !replays(job)) return;
    const twin = recordedJob(job, source);
    const rec = twin.records();
    const lists = new Map<number, Int32Array[]>();
    rec.positions.forEach((pos, s) => {
      const step = rec.selected![s];
      if (step.some((l) => l.length > 0)) lists.set(pos, step.map((l) => Int32Array.from(l)));
    });
    this.replay = {
      note: { from: source.dir, jobId: twin.job.id, replayed: 0, notRecorded: 0 },
      lists,
      recorded: new Set(rec.positions),
      logits: new Map((rec.logits ?? []).map((l) => [l.position, l])),
    };
  }

  /** What the job's records add: its logits and what it replayed (undefined: nothing). */
  finishJob(): Partial<JobRecords> | undefined {
    const out: Partial<JobRecords> = {
      ...(this.opts.recordLogits && { logits: this.steps }),
      ...(this.replay && { replay: this.replay.note }),
    };
    this.steps = [];
    this.replay = undefined;
    return Object.keys(out).length ? out : undefined;
  }

  get config(): ModelConfig {
    return this.inner.config;
  }
  get length(): number {
    return this.inner.length;
  }
  get backend(): 'cpu' | 'cuda' {
    return this.inner.backend;
  }
  get deviceName(): string {
    return this.inner.deviceName;
  }
  get lastDecodeMs(): number {
    return this.inner.lastDecodeMs;
  }
  setAttention(options: NativeAttentionOptions): void {
    this.inner.setAttention(options);
  }
  reset(): void {
    this.inner.reset();
  }
  truncate(n: number): void {
    this.inner.truncate(n);
  }
  reserve(n: number): void {
    this.inner.reserve(n);
  }
  prefill(tokens: Int32Array, options: { nll?: boolean; logits: true }): Promise<{ token: number; logits: Float32Array; nll?: Float32Array }>;
  prefill(tokens: Int32Array, options?: { nll?: boolean; logits?: boolean }): Promise<{ token: number; logits?: Float32Array; nll?: Float32Array }>;
  prefill(tokens: Int32Array, options?: { nll?: boolean; logits?: boolean }): Promise<{ token: number; logits?: Float32Array; nll?: Float32Array }> {
    return this.inner.prefill(tokens, options);
  }
  replayNext(selected: Int32Array[]): void {
    this.inner.replayNext(selected);
  }
  records(options?: { clear?: boolean }): EngineRecords {
    return this.inner.records(options);
  }

  decode(token: number, options: { logits: true }): Promise<{ token: number; logits: Float32Array }>;
  decode(token: number, options?: { logits?: boolean }): Promise<{ token: number; logits?: Float32Array }>;
  async decode(token: number, options?: { logits?: boolean }): Promise<{ token: number; logits?: Float32Array }> {
    const position = this.inner.length;
    if (this.replay) {
      const lists = this.replay.lists.get(position);
      if (lists) {
        this.inner.replayNext(lists);
        this.replay.note.replayed++;
      } else if (!this.replay.recorded.has(position)) {
        this.replay.note.notRecorded++;  // the recorded job stopped before: this step selects
      }
    }
    if (!this.opts.recordLogits) return this.inner.decode(token, options);
    const out = await this.inner.decode(token, { logits: true });
    this.steps.push(this.logitsStep(position, token, out.token, out.logits));
    return options?.logits ? out : { token: out.token };
  }

  private logitsStep(position: number, token: number, chosen: number, logits: Float32Array): LogitsStep {
    const { ids, values } = topLogits(logits, recordedTopK);
    const recorded = this.replay?.logits.get(position);
    return {
      position, token, chosen, chosenLogit: logits[chosen], margin: values[0] - values[1], ids, values,
      ...(recorded && { atRecorded: recorded.ids.map((id) => logits[id]) }),
    };
  }
}
