// The kernels task's rows from one result of the step benchmark: per phase the cold samples
// (latency_us.<phase>, L2 flushed) and the hot ones (latency_hot_us.<phase>, runs back to back),
// the bandwidth against the copy bandwidth measured in the same run, full attention and the
// speedup over it, the timer's floor (one empty kernel, CUDA), and the GPU's clocks while the case
// ran (a throttled case is marked in its latency rows and by its `throttled` row).
import { median } from 'simple-statistics';
import type { Measurement } from '../../core/job.js';
import type { BenchAttentionResult, BenchClocks } from '../../native/addon.js';
import { thin } from '../common/measure.js';

const round = (x: number) => Number(x.toPrecision(5));

type Phase = 'estimate' | 'topk' | 'attention' | 'total' | 'full' | 'launch';

/** "THROTTLED: ..." for a case whose SM clock fell below 90% of its highest sample, else ''. */
export function throttleNote(c: BenchClocks | undefined): string {
  if (!c?.available || !c.throttled) return '';
  return `THROTTLED: the SM clock fell to ${c.smMinMHz} MHz, below 90% of the case's highest ${c.smMaxMHz} MHz`;
}

function latencyRows(r: BenchAttentionResult, phase: Phase, note: string, extra = ''): Measurement[] {
  const out: Measurement[] = [];
  const detail = [extra, note].filter((s) => s !== '').join('; ');
  const cold = r[phase];
  if (cold.length > 0)
    out.push({ metric: `latency_us.${phase}`, value: round(median(cold)), unit: 'us', n: cold.length, samples: thin(cold).map(round),
      ...(detail && { detail }) });
  const hot = r.hot?.[phase] ?? [];
  if (hot.length > 0)
    out.push({ metric: `latency_hot_us.${phase}`, value: round(median(hot)), unit: 'us', n: hot.length, samples: thin(hot).map(round),
      detail: [`each sample: ${r.batch} runs back to back, divided by ${r.batch}`, extra, note].filter((s) => s !== '').join('; ') });
  return out;
}

function clockRows(c: BenchClocks | undefined): Measurement[] {
  if (!c?.available) return [];
  const detail = `NVML, ${c.samples} samples while the case ran: SM ${c.smMinMHz}-${c.smMaxMHz} MHz, memory ${c.memMinMHz}-${c.memMaxMHz} MHz`;
  return [
    { metric: 'sm_clock_mhz', value: c.smMinMHz, unit: 'MHz', n: c.samples, detail: `the lowest SM clock sampled; ${detail}` },
    { metric: 'throttled', value: c.throttled ? 1 : 0, unit: '', n: c.samples,
      detail: c.throttled ? `${throttleNote(c)}; ${detail}` : `no SM clock sample below 90% of the highest; ${detail}` },
  ];
}

export function kernelRows(r: BenchAttentionResult, label: string): Measurement[] {
  const out: Measurement[] = [];
  const note = throttleNote(r.clocks);
  const phases = r.sparse ? (['estimate', 'topk', 'attention', 'total'] as const) : (['total'] as const);
  for (const phase of phases) {
    // a dense step (full attention, or kv_len <= budget) is all attention: total = attention
    const samples = r[phase];
    if (samples.length === 0) continue;
    out.push(...latencyRows(r, phase, note));
    const us = median(samples);
    const bytes = r.bytes[phase];
    if (bytes > 0) {
      const gbs = bytes / (us * 1e3);
      out.push({ metric: `bandwidth_gbs.${phase}`, value: round(gbs), unit: 'GB/s', n: samples.length,
        detail: `${bytes} bytes; ${(100 * gbs / r.copyBandwidthGBs).toFixed(1)}% of the copy bandwidth (${r.copyBandwidthGBs.toFixed(0)} GB/s)` });
    }
  }
  if (r.sparse && r.full.length > 0) {
    out.push(...latencyRows(r, 'full', note, 'full attention at the same shape, timed in the same run'));
    out.push({ metric: 'speedup_vs_full', value: round(median(r.full) / median(r.total)), unit: 'x', n: r.total.length,
      detail: `${label}: median full / median total` });
  }
  // the timer's floor: no phase of one launch can take less (cuda)
  if (r.launch.length > 0)
    out.push(...latencyRows(r, 'launch', note, 'one empty kernel through the same timer: the floor under every phase'));
  out.push({ metric: 'copy_bandwidth_gbs', value: round(r.copyBandwidthGBs), unit: 'GB/s', n: 1, detail: `${r.backend}: ${r.device}` });
  out.push(...clockRows(r.clocks));
  return out;
}

/** What meta.json keeps of a result: the device's facts, and how the clocks were read. */
export function kernelFacts(r: BenchAttentionResult): Record<string, unknown> {
  if (r.backend !== 'cuda') return { device: r.device, copyBandwidthGBs: r.copyBandwidthGBs };
  return {
    device: r.device,
    driver: r.driver,
    driverVersion: r.driverVersion,
    runtimeVersion: r.runtimeVersion,
    l2Bytes: r.l2Bytes,
    copyBandwidthGBs: r.copyBandwidthGBs,
    clocks: r.clocks?.available ? 'NVML: SM and memory clocks sampled while each case ran (rows sm_clock_mhz, throttled)'
      : `unavailable: ${r.clocks?.note || 'NVML did not answer'}`,
  };
}
