// What the analysis knows about each metric: which way is better, whether it is a quality score
// or a timing, and how to title it. The one place to add a metric; unknown metrics fall back to
// their unit (time units are lower-is-better timings, '.../s' rates higher-is-better timings).
// Timings of one measured quantity split into components put the component after a dot
// ('latency_us.estimate'); the part before the dot finds the entry.

export type Direction = 'higher' | 'lower';
/** 'accuracy': a quality number (deterministic for a fixed build); 'timing': a noisy speed number. */
export type MetricKind = 'accuracy' | 'timing';

export interface MetricInfo {
  direction: Direction;
  kind: MetricKind;
  /** Axis title. */
  title: string;
  /** Values are 0/1 per trial (or a fraction of trials): Wilson intervals apply. */
  proportion?: boolean;
  /**
   * A property of the machine the run measured on, not of the code under test (the copy
   * bandwidth, the clocks, the timer's floor): compare shows its change and never judges it.
   */
  machine?: boolean;
}

export const knownMetrics: Readonly<Record<string, MetricInfo>> = {
  // quality
  accuracy: { direction: 'higher', kind: 'accuracy', title: 'Accuracy', proportion: true },
  score: { direction: 'higher', kind: 'accuracy', title: 'Score' },
  ppl: { direction: 'lower', kind: 'accuracy', title: 'Perplexity' },
  prefix_ppl: { direction: 'lower', kind: 'accuracy', title: 'Perplexity of the dense prefix' },
  eval_tokens: { direction: 'higher', kind: 'accuracy', title: 'Evaluated tokens' },
  mean_nll: { direction: 'lower', kind: 'accuracy', title: 'Mean NLL (nats/token)' },
  recall: { direction: 'higher', kind: 'accuracy', title: 'Top-k recall', proportion: true },
  // the same answer with every threshold moved by +E and by -E (src/stats/jitter.ts)
  stability: { direction: 'higher', kind: 'accuracy', title: 'Decision stability under threshold jitter', proportion: true },
  // not measured here: a peer that could not run (the detail says why)
  skipped: { direction: 'lower', kind: 'accuracy', title: 'Skipped (not measured here)' },
  // bytes a decode step reads at least (a function of the model, the method and the length)
  bytes_per_token: { direction: 'lower', kind: 'accuracy', title: 'Bytes read per decode step' },
  // speed
  prefill_s: { direction: 'lower', kind: 'timing', title: 'Prefill time (s)' },
  prefill_tokens_per_s: { direction: 'higher', kind: 'timing', title: 'Prefill (tokens/s)' },
  decode_tokens_per_s: { direction: 'higher', kind: 'timing', title: 'Decode (tokens/s)' },
  decode_ms_per_token: { direction: 'lower', kind: 'timing', title: 'Decode latency (ms/token)' },
  decode_wall_ms_per_token: { direction: 'lower', kind: 'timing', title: 'Decode latency, host wall clock (ms/token)' },
  floor_ms_per_token: { direction: 'lower', kind: 'timing', title: 'Bytes floor of a decode step (ms)' },
  floor_ratio: { direction: 'higher', kind: 'timing', title: 'Bytes floor / measured decode latency' },
  latency_us: { direction: 'lower', kind: 'timing', title: 'Latency (µs)' },
  latency_hot_us: { direction: 'lower', kind: 'timing', title: 'Latency, hot (µs)' },
  latency_ms: { direction: 'lower', kind: 'timing', title: 'Latency (ms)' },
  bandwidth_gbs: { direction: 'higher', kind: 'timing', title: 'Bandwidth (GB/s)' },
  copy_bandwidth_gbs: { direction: 'higher', kind: 'timing', title: 'Copy bandwidth (GB/s)', machine: true },
  speedup_vs_full: { direction: 'higher', kind: 'timing', title: 'Speedup over full attention' },
  sm_clock_mhz: { direction: 'higher', kind: 'timing', title: 'Lowest SM clock while the case ran (MHz)', machine: true },
  throttled: { direction: 'lower', kind: 'timing', title: 'Throttled (an SM clock sample below 90% of the highest)', machine: true },
  // one empty kernel through the kernels' timer: launch and event overhead, the floor of a phase
  'latency_us.launch': { direction: 'lower', kind: 'timing', title: 'Timer floor: an empty kernel (µs)', machine: true },
  'latency_hot_us.launch': { direction: 'lower', kind: 'timing', title: 'Timer floor, hot: an empty kernel (µs)', machine: true },
};

/**
 * The primary metric of each task: the summary table's number and what the accuracy figures
 * plot. Tasks not listed use their first accuracy-kind metric.
 */
export const primaryMetric: Readonly<Record<string, string>> = {
  passkey: 'accuracy',
  ppl: 'ppl',
  longbench: 'score',
  ruler: 'score',
  e2e: 'decode_ms_per_token',
  kernels: 'latency_us.total',
};

const timeUnits = new Set(['s', 'ms', 'us', 'µs', 'ns']);

/** The entry for `metric`: exact name, then the part before the first dot, then by unit. */
export function metricInfo(metric: string, unit = ''): MetricInfo | undefined {
  const exact = knownMetrics[metric];
  if (exact) return exact;
  const dot = metric.indexOf('.');
  if (dot > 0) {
    const base = knownMetrics[metric.slice(0, dot)];
    if (base) return { ...base, title: `${base.title} · ${metric.slice(dot + 1)}` };
  }
  if (timeUnits.has(unit)) return { direction: 'lower', kind: 'timing', title: `${metric} (${unit})` };
  if (unit.endsWith('/s')) return { direction: 'higher', kind: 'timing', title: `${metric} (${unit})` };
  return undefined;
}

/** The component after the dot ('latency_us.attention' -> 'attention'), or ''. */
export function metricComponent(metric: string): string {
  const dot = metric.indexOf('.');
  return dot > 0 ? metric.slice(dot + 1) : '';
}

export function metricBase(metric: string): string {
  const dot = metric.indexOf('.');
  return dot > 0 ? metric.slice(0, dot) : metric;
}
