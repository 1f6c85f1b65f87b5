// Reuse of a dense prefill across jobs: jobs that share a prompt prefix (same prefix key) run one
// after another on the same worker, and all but the first truncate the KV cache back to the prefix
// instead of prefilling again. The method is set after the truncation, so its state (page bounds,
// key codes) is rebuilt from exactly the prefix.
import { toNativeOptions, type MethodSpec } from '../methods/spec.js';
import type { NativeEngine } from '../native/addon.js';
import type { RunContext } from '../tasks/types.js';

interface Cached {
  key: string;
  length: number;
  logits: Float32Array;
  nll?: Float32Array;
}

/** What the engine records at every sparse decode step (see Engine::records). */
export interface Instrumentation {
  measureRecall?: boolean;
  recordSelection?: boolean;
}

export class PrefixSession {
  private cached: Cached | undefined;

  constructor(
    private readonly engine: NativeEngine,
    private readonly instrument: Instrumentation = {},
  ) {}

  prepare: RunContext['preparePrefix'] = async (key, tokens, method, opts = {}) => {
    const native = toNativeOptions(method, this.instrument);
    if (opts.reserve !== undefined) this.engine.reserve(opts.reserve);
    const c = this.cached;
    const reusable = key !== '' && c !== undefined && c.key === key && c.length === tokens.length &&
      this.engine.length >= c.length && (!opts.nll || c.nll !== undefined);
    if (reusable) {
      this.engine.truncate(c.length);
      this.engine.setAttention(native);
      return { logits: c.logits, nll: c.nll, reused: true, seconds: 0 };
    }
    this.cached = undefined;
    this.engine.reset();
    this.engine.setAttention(native);
    const t0 = performance.now();
    const out = tokens.length > 0
      ? await this.engine.prefill(Int32Array.from(tokens), { nll: opts.nll, logits: true })
      : { logits: new Float32Array(), nll: opts.nll ? new Float32Array() : undefined };
    const seconds = (performance.now() - t0) / 1000;
    if (key !== '') this.cached = { key, length: tokens.length, logits: out.logits, nll: out.nll };
    return { logits: out.logits, nll: out.nll, reused: false, seconds };
  };

  /** Forget the cached prefix (e.g. after a job failed half-way). */
  invalidate(): void {
    this.cached = undefined;
  }
}
