// Two runs of one plan on different backends (e.g. passkey --device cpu and --device cuda): do
// they agree within their noise?
//   accuracy:    per task, data set, method, budget and length (depths pooled), the trials paired
//                case by case and tested (exact McNemar / sign test, src/stats/paired.ts),
//                Holm-adjusted over the cells: "no difference" unless p <= alpha;
//   perplexity:  the ratio b / a, within a band (1%); beside it, where both runs kept the mean NLL
//                of each window of the text, the windows paired: the ratio's bootstrap interval
//                and the sign test, which tell a shift over the whole text from the noise of a few
//                windows (the verdict stays the band's);
//   selections:  where both runs recorded them, the share of lists (step, layer, head) the two
//                agree on: mean Jaccard |A n B| / |A u B| and the share of identical sets;
//   answers:     for full attention and StreamingLLM (nothing to select differently), the cases
//                whose answers differ, with the top-1 margin of each run at the first decode step
//                where their tokens part (from --record-logits records);
//   replays:     where one run replayed the other's selections (--replay-selection) with
//                --record-logits on both, the largest |logit difference| of each step, within a
//                tolerance (2e-2, the engines' agreement on the golden prompts).
// Jobs are matched on everything that defines them but the suite (results/replay-source.ts).
import { resolve } from 'node:path';
import type { Job } from '../core/job.js';
import { methodLabel } from '../methods/spec.js';
import type { ResultRow } from '../results/columns.js';
import type { JobRecords, LogitsStep } from '../results/records.js';
import { replayKey } from '../results/replay-source.js';
import { aggregateGroup, byMeasurementKey, estimateOf, groupRows, type MeasurementKey } from './aggregate.js';
import type { Estimate } from './format.js';
import { metricBase } from './metrics.js';
import { holmAdjust } from './multiple.js';
import { pairedComparison, pairRows, type PairedComparison } from './paired.js';

export interface AgreeSide {
  dir: string;
  rows: readonly ResultRow[];
  jobs: readonly Job[];
  /** The records of a job, if the run kept any. */
  records: (jobId: string) => JobRecords | undefined;
}

export interface AgreeOptions {
  /** Family-wise level of the accuracy tests [0.05]. */
  alpha?: number;
  /** Largest |ppl_b / ppl_a - 1| that agrees [0.01]. */
  pplBand?: number;
  /** Largest |logit difference| of a replayed step that agrees [2e-2]. */
  logitTolerance?: number;
}

export const agreeDefaults = { alpha: 0.05, pplBand: 0.01, logitTolerance: 2e-2 } as const;

/** Where a cell sits: task, data set, method label, budget, length. */
export interface Cell {
  task: string;
  dataset: string;
  label: string;
  budget: number | null;
  contextLen: number | null;
}

export interface AccuracyAgreement extends Cell {
  metric: string;
  case: string;
  a: Estimate;
  b: Estimate;
  paired: PairedComparison | null;
  pHolm: number | null;
  verdict: 'no difference' | 'differs' | 'untested';
}

export interface PerplexityAgreement extends Cell {
  a: Estimate;
  b: Estimate;
  ratio: number;
  /**
   * The mean NLL of each window (ppl's nllWindows) paired between the runs, when both have the
   * same windows: whether b's difference is consistent over the text or the band's edge is noise.
   */
  windows: WindowComparison | null;
  verdict: 'within band' | 'differs';
}

export interface WindowComparison {
  windows: number;
  /** exp of the paired-bootstrap interval of the mean window NLL difference: the ratio's interval. */
  ratioCi: [number, number] | null;
  /** Two-sided sign test over the windows; windows where b's NLL is lower / higher. */
  p: number;
  lower: number;
  higher: number;
}

export interface SelectionAgreement extends Cell {
  jobs: number;
  /** Lists compared (steps x layers x heads where both attended sparsely). */
  lists: number;
  jaccard: number;
  exact: number;
}

/** A case of full attention or StreamingLLM whose answers differ between the runs. */
export interface PartedCase extends Cell {
  depth: number | null;
  case: string;
  answerA: string;
  answerB: string;
  /** The first decode step where the fed tokens part (null without logits records). */
  step: number | null;
  position: number | null;
  chosenA?: number;
  chosenB?: number;
  marginA?: number;
  marginB?: number;
  note?: string;
}

export interface ReplayAgreement extends Cell {
  /** Which run replayed the other's selections. */
  replayed: 'a' | 'b';
  jobs: number;
  steps: number;
  /** max over steps of the step's largest |logit difference|, and its mean over steps. */
  max: number;
  mean: number;
  /** Whether the differences are over the recorded top-20 ids (exact) or the ids both top-20s share. */
  over: 'recorded top 20' | 'shared top-20 ids';
  verdict: 'within tolerance' | 'differs';
}

export interface AgreementResult {
  options: Required<AgreeOptions>;
  pairedJobs: number;
  accuracy: AccuracyAgreement[];
  perplexity: PerplexityAgreement[];
  selections: SelectionAgreement[];
  parted: PartedCase[];
  replays: ReplayAgreement[];
  /** Cells beyond their band: significant accuracy differences, perplexity and replay logits. */
  differences: number;
  warnings: string[];
}

const isPairedMetric = (m: string) => ['accuracy', 'score'].includes(metricBase(m));

function cellOf(k: MeasurementKey): Cell {
  return { task: k.task, dataset: k.dataset, label: k.label, budget: k.budget, contextLen: k.contextLen };
}

function jobCell(j: Job): Cell {
  return { task: j.task, dataset: j.dataset, label: methodLabel(j.method), budget: j.method.budget ?? null, contextLen: j.contextLen };
}

const cellKey = (c: Cell) => [c.task, c.dataset, c.label, c.budget ?? '', c.contextLen ?? ''].join('\u241f');

function byCell(a: Cell, b: Cell): number {
  return a.task.localeCompare(b.task) || a.dataset.localeCompare(b.dataset) || a.label.localeCompare(b.label) ||
    (a.budget ?? -1) - (b.budget ?? -1) || (a.contextLen ?? -1) - (b.contextLen ?? -1);
}

/** The groups of both sides that share a key: metric rows of one measurement, depths pooled. */
function sharedGroups(a: readonly ResultRow[], b: readonly ResultRow[], keep: (metric: string) => boolean) {
  const ga = groupRows(a.filter((r) => keep(r.metric)), { collapse: ['depth'] });
  const gb = groupRows(b.filter((r) => keep(r.metric)), { collapse: ['depth'] });
  return [...ga].filter(([k]) => gb.has(k)).map(([k, x]) => ({ ks: k, key: x.key, a: x.rows, b: gb.get(k)!.rows }))
    .sort((x, y) => byMeasurementKey(x.key, y.key));
}

function accuracyCells(a: AgreeSide, b: AgreeSide, alpha: number): AccuracyAgreement[] {
  const cells = sharedGroups(a.rows, b.rows, isPairedMetric).map((g) => {
    const pairing = pairRows(g.a, g.b);
    const paired = pairing && pairing.first.length > 0 ? pairedComparison(pairing.first, pairing.second) : null;
    return {
      ...cellOf(g.key), metric: g.key.metric, case: g.key.case,
      a: estimateOf(aggregateGroup(g.ks, g.key, g.a)), b: estimateOf(aggregateGroup(g.ks, g.key, g.b)), paired,
    };
  });
  const holm = holmAdjust(cells.map((c) => c.paired?.p ?? null));
  return cells.map((c, i) => ({
    ...c, pHolm: holm[i],
    verdict: holm[i] === null ? 'untested' : holm[i]! <= alpha ? 'differs' : 'no difference',
  }));
}

/** nllWindows of a ppl row's detail, or null. */
function nllWindows(row: ResultRow): number[] | null {
  try {
    const w = (JSON.parse(row.detail ?? '') as { nllWindows?: unknown }).nllWindows;
    return Array.isArray(w) && w.every((x) => typeof x === 'number' && Number.isFinite(x)) ? (w as number[]) : null;
  } catch {
    return null;
  }
}

function compareWindows(a: readonly ResultRow[], b: readonly ResultRow[]): WindowComparison | null {
  if (a.length !== 1 || b.length !== 1) return null;  // one job a side: its windows pair one to one
  const wa = nllWindows(a[0]);
  const wb = nllWindows(b[0]);
  if (!wa || !wb || wa.length !== wb.length || wa.length < 2) return null;
  const c = pairedComparison(wa, wb);
  return {
    windows: wa.length,
    ratioCi: c.ci ? [Math.exp(c.ci.lo), Math.exp(c.ci.hi)] : null,
    p: c.p,
    lower: c.lower,
    higher: c.higher,
  };
}

function perplexityCells(a: AgreeSide, b: AgreeSide, band: number): PerplexityAgreement[] {
  return sharedGroups(a.rows, b.rows, (m) => m === 'ppl').map((g) => {
    const ea = estimateOf(aggregateGroup(g.ks, g.key, g.a));
    const eb = estimateOf(aggregateGroup(g.ks, g.key, g.b));
    const ratio = eb.value / ea.value;
    return {
      ...cellOf(g.key), a: ea, b: eb, ratio, windows: compareWindows(g.a, g.b),
      verdict: Math.abs(ratio - 1) <= band + 1e-12 ? 'within band' : 'differs',
    };
  });
}

/** The jobs both runs ran, matched on all that defines them but the suite. */
function pairJobs(a: AgreeSide, b: AgreeSide): [Job, Job][] {
  const bj = new Map(b.jobs.map((j) => [replayKey(j), j]));
  return a.jobs.flatMap((j) => {
    const twin = bj.get(replayKey(j));
    return twin ? [[j, twin] as [Job, Job]] : [];
  });
}

/** Per cell, the recorded selections of both runs compared list by list. */
function selectionCells(pairs: readonly [Job, Job][], a: AgreeSide, b: AgreeSide): SelectionAgreement[] {
  const cells = new Map<string, SelectionAgreement>();
  for (const [ja, jb] of pairs) {
    if (ja.method.method === 'full') continue;
    const ra = a.records(ja.id);
    const rb = b.records(jb.id);
    if (!ra?.selected || !rb?.selected) continue;
    const stepOf = new Map(rb.positions.map((p, i) => [p, i]));
    const cell = jobCell(ja);
    const c = cells.get(cellKey(cell)) ?? { ...cell, jobs: 0, lists: 0, jaccard: 0, exact: 0 };
    c.jobs++;
    ra.positions.forEach((pos, s) => {
      const t = stepOf.get(pos);
      if (t === undefined) return;
      ra.selected![s].forEach((la, i) => {
        const lb = rb.selected![t][i];
        if (!la?.length || !lb?.length) return;
        const setB = new Set(lb);
        const inter = la.filter((x) => setB.has(x)).length;
        c.lists++;
        c.jaccard += inter / (la.length + lb.length - inter);
        c.exact += inter === la.length && inter === lb.length ? 1 : 0;
      });
    });
    cells.set(cellKey(cell), c);
  }
  return [...cells.values()].filter((c) => c.lists > 0).map((c) => ({ ...c, jaccard: c.jaccard / c.lists, exact: c.exact / c.lists })).sort(byCell);
}

function answerOf(row: ResultRow): string {
  try {
    const d = JSON.parse(row.detail) as Record<string, unknown>;
    const v = d.answer ?? d.prediction ?? d.pred;
    if (v !== undefined) return String(v);
  } catch {
    // a plain detail
  }
  return row.detail || row.value;
}

/** The first step where the fed tokens part: the chosen tokens differ and so does the next token
 *  fed (a step of the prompt tail feeds the prompt's token whatever was chosen). */
function partingStep(la: readonly LogitsStep[], lb: readonly LogitsStep[]): number {
  const n = Math.min(la.length, lb.length);
  for (let s = 0; s < n; s++) {
    if (la[s].chosen === lb[s].chosen) continue;
    const next = s + 1 < n ? [la[s + 1].token, lb[s + 1].token] : undefined;
    if (!next || next[0] !== next[1]) return s;
  }
  return -1;
}

function partedCases(pairs: readonly [Job, Job][], a: AgreeSide, b: AgreeSide): PartedCase[] {
  const primary = (side: AgreeSide, id: string) => side.rows.find((r) => r.job_id === id && isPairedMetric(r.metric) && !r.metric.includes('.'));
  const out: PartedCase[] = [];
  for (const [ja, jb] of pairs) {
    if (ja.method.method !== 'full' && ja.method.method !== 'streaming') continue;
    const ra = primary(a, ja.id);
    const rb = primary(b, jb.id);
    if (!ra || !rb) continue;
    const answerA = answerOf(ra);
    const answerB = answerOf(rb);
    if (answerA === answerB && ra.value === rb.value) continue;
    const base = { ...jobCell(ja), depth: ja.depth ?? null, case: ra.case, answerA, answerB };
    const la = a.records(ja.id)?.logits;
    const lb = b.records(jb.id)?.logits;
    if (!la || !lb) {
      out.push({ ...base, step: null, position: null, note: 'no --record-logits records: margins unknown' });
      continue;
    }
    const s = partingStep(la, lb);
    if (s < 0) {
      out.push({ ...base, step: null, position: null, note: 'the recorded decode steps chose the same tokens' });
      continue;
    }
    out.push({ ...base, step: s, position: la[s].position, chosenA: la[s].chosen, chosenB: lb[s].chosen, marginA: la[s].margin, marginB: lb[s].margin });
  }
  return out.sort((x, y) => byCell(x, y) || (x.depth ?? -1) - (y.depth ?? -1) || x.case.localeCompare(y.case));
}

/** Each step's largest |logit difference| between a replay and its recorded run. */
function stepDifferences(replay: readonly LogitsStep[], recorded: readonly LogitsStep[]): { diffs: number[]; exact: boolean } {
  const at = new Map(recorded.map((s) => [s.position, s]));
  const diffs: number[] = [];
  let exact = true;
  for (const s of replay) {
    const r = at.get(s.position);
    if (!r) continue;
    if (s.atRecorded && s.atRecorded.length === r.values.length) {
      diffs.push(Math.max(...s.atRecorded.map((v, i) => Math.abs(v - r.values[i]))));
      continue;
    }
    exact = false;
    const mine = new Map(s.ids.map((id, i) => [id, s.values[i]]));
    const shared = r.ids.flatMap((id, i) => (mine.has(id) ? [Math.abs(mine.get(id)! - r.values[i])] : []));
    diffs.push(shared.length ? Math.max(...shared) : Infinity);
  }
  return { diffs, exact };
}

function replayCells(pairs: readonly [Job, Job][], a: AgreeSide, b: AgreeSide, tol: number): ReplayAgreement[] {
  const cells = new Map<string, ReplayAgreement & { sum: number; allExact: boolean }>();
  for (const [ja, jb] of pairs) {
    const ra = a.records(ja.id);
    const rb = b.records(jb.id);
    const which: 'a' | 'b' | undefined = rb?.replay && resolve(rb.replay.from) === resolve(a.dir) ? 'b'
      : ra?.replay && resolve(ra.replay.from) === resolve(b.dir) ? 'a' : undefined;
    if (!which || !ra?.logits || !rb?.logits) continue;
    const { diffs, exact } = which === 'b' ? stepDifferences(rb.logits, ra.logits) : stepDifferences(ra.logits, rb.logits);
    if (diffs.length === 0) continue;
    const cell = jobCell(ja);
    const c = cells.get(cellKey(cell)) ?? { ...cell, replayed: which, jobs: 0, steps: 0, max: 0, mean: 0, over: 'recorded top 20', verdict: 'within tolerance', sum: 0, allExact: true };
    c.jobs++;
    c.steps += diffs.length;
    c.sum += diffs.reduce((s, d) => s + d, 0);
    c.max = Math.max(c.max, ...diffs);
    c.allExact &&= exact;
    cells.set(cellKey(cell), c);
  }
  return [...cells.values()].map(({ sum, allExact, ...c }) => ({
    ...c, mean: sum / c.steps, over: allExact ? 'recorded top 20' : 'shared top-20 ids',
    verdict: c.max <= tol ? 'within tolerance' : 'differs',
  } as ReplayAgreement)).sort(byCell);
}

export function agreement(a: AgreeSide, b: AgreeSide, opts: AgreeOptions = {}): AgreementResult {
  const options = { ...agreeDefaults, ...opts };
  const pairs = pairJobs(a, b);
  const accuracy = accuracyCells(a, b, options.alpha);
  const perplexity = perplexityCells(a, b, options.pplBand);
  const replays = replayCells(pairs, a, b, options.logitTolerance);
  const warnings: string[] = [];
  const unpaired = accuracy.filter((c) => c.paired && (c.paired.pairs < c.a.n || c.paired.pairs < c.b.n));
  if (unpaired.length) warnings.push(`${unpaired.length} accuracy cell(s) have cases only one run ran: only the shared cases are paired`);
  const differences = accuracy.filter((c) => c.verdict === 'differs').length + perplexity.filter((c) => c.verdict === 'differs').length +
    replays.filter((c) => c.verdict === 'differs').length;
  return {
    options, pairedJobs: pairs.length, accuracy, perplexity, selections: selectionCells(pairs, a, b),
    parted: partedCases(pairs, a, b), replays, differences, warnings,
  };
}
