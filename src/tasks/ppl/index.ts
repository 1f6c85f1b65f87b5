// ppl: perplexity of a long book (PG-19 in the paper) while decoding with each method.
//
// Two protocols:
//  - 'token-by-token' (the seed's pg19/ppl_eval.py): every token is fed one at a time through the
//    decode path from position 0, so the method's sparsity applies as soon as the KV cache holds
//    more tokens than the budget; every step's next-token NLL counts.
//  - 'prefix' (faster): the first P tokens are prefilled densely (shared by every method and budget
//    through the prefix key), the rest are fed token by token through the decode path. Only the
//    predictions made by decode steps are scored, i.e. the perplexity covers tokens P+1..L; the
//    dense prefix's own perplexity is reported apart as prefix_ppl (the same for every method).
// A job feeds L tokens in all (its context length) and scores the last numEvalTokens decode-step
// predictions (default: all of them, L - P); the seed's `--num_eval_tokens N` is
// {protocol: 'token-by-token', lengths: [N]}.
import type { MethodSpec } from '../../methods/spec.js';
import type { Tokenizer } from '../../model/tokenizer.js';
import type { Job, Measurement } from '../../core/job.js';
import { UsageError } from '../../core/errors.js';
import { OwnerCache, SmallCache } from '../common/cache.js';
import { checkContext, dataRoot } from '../common/limits.js';
import { detailJson, timingMeasurements } from '../common/measure.js';
import type { CheckContext, PlanContext, PlannedJob, RunContext, TaskModule } from '../types.js';
import { mean, nllOf, windowMeans } from './nll.js';
import { checkBook, firstTokens, readBook, resolveSource, type Book } from './sources.js';

export type PplProtocol = 'prefix' | 'token-by-token';

export interface PplOptions {
  /** 'default' (offline corpus), 'gutenberg:<name>', or a path (parquet, directory, .txt, .jsonl). */
  source: string;
  /** Which book of the source (row, sorted file, line); the seed uses the first. */
  book: number;
  /** Tokens fed in all (the context length reached). */
  lengths: number[];
  protocol: PplProtocol;
  /** 'prefix' protocol: tokens prefilled densely; 'auto' = min(1024, floor(L / 2)). */
  prefixLength: number | 'auto';
  /** Decode-step predictions scored, the last ones (default: all of them). */
  numEvalTokens?: number;
}

/** Tokens a window of the per-token NLL summary in the detail column. */
export const NLL_WINDOW = 256;

export const pplOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['source', 'lengths', 'protocol'],
  properties: {
    source: { type: 'string', minLength: 1 },
    book: { type: 'integer', minimum: 0, default: 0 },
    lengths: { type: 'array', items: { type: 'integer', minimum: 2 }, minItems: 1, uniqueItems: true },
    protocol: { enum: ['prefix', 'token-by-token'] },
    prefixLength: {
      type: ['integer', 'string'],
      if: { type: 'string' },
      then: { const: 'auto' },
      else: { minimum: 1 },
      default: 'auto',
    },
    numEvalTokens: { type: 'integer', minimum: 1 },
  },
} as const;

/** Dense prefix length of a job. */
export function prefixLengthFor(options: Pick<PplOptions, 'protocol' | 'prefixLength'>, length: number): number {
  if (options.protocol === 'token-by-token') return 0;
  return options.prefixLength === 'auto' || options.prefixLength === undefined ? Math.min(1024, Math.floor(length / 2)) : options.prefixLength;
}

const books = new SmallCache<Promise<Book>>(2);
const tokenCache = new OwnerCache<Tokenizer, number[]>(2);

export const pplTask: TaskModule<PplOptions> = {
  name: 'ppl',
  description: 'perplexity of a long book (PG-19 or an offline public-domain book) decoded token by token',
  optionsSchema: pplOptionsSchema,
  defaults: (device) =>
    device === 'cuda'
      ? { source: 'default', book: 0, lengths: [4096, 8192], protocol: 'token-by-token', prefixLength: 'auto' }
      : { source: 'default', book: 0, lengths: [2048], protocol: 'prefix', prefixLength: 'auto' },
  flags: [
    { flags: '--source <path>', description: "text: 'default', gutenberg:<name>, a PG-19 parquet or directory, a .txt or .jsonl file", key: 'source' },
    { flags: '--book <n>', description: 'which book of the source (default 0, as the seed)', parse: 'int', key: 'book' },
    { flags: '--lengths <list>', description: 'tokens fed in all', parse: 'intList', key: 'lengths' },
    { flags: '--protocol <p>', description: "'token-by-token' (the seed's) or 'prefix' (dense prefix, then decode)", key: 'protocol', choices: ['prefix', 'token-by-token'] },
    { flags: '--prefix-length <n>', description: "prefix protocol: tokens prefilled densely (default min(1024, L/2))", parse: 'int', key: 'prefixLength' },
    { flags: '--num-eval-tokens <n>', description: 'score only the last n decode-step predictions', parse: 'int', key: 'numEvalTokens' },
  ],
  examples: ['adamas-bench ppl --budget 64', 'adamas-bench ppl --source pg19-test.parquet --protocol token-by-token --lengths 8192'],
  estimateWork: (job) => {
    const prefix = Number(job.params.prefix ?? 0);
    return { prefillTokens: prefix, decodeSteps: job.contextLen - prefix, decodeFrom: prefix };
  },

  // before the run starts: each text holds the tokens its longest length needs (plus the one the
  // last step predicts), counted with the model's tokenizer
  async checkJobs(jobs: readonly Job[], ctx: CheckContext): Promise<void> {
    const longest = new Map<string, Job>();
    for (const job of jobs) {
      const key = `${job.model}|${String(job.params.source)}|${Number(job.params.book ?? 0)}`;
      if ((longest.get(key)?.contextLen ?? 0) < job.contextLen) longest.set(key, job);
    }
    for (const job of longest.values()) {
      const source = String(job.params.source);
      const bookIndex = Number(job.params.book ?? 0);
      const src = resolveSource(source, dataRoot(ctx.dataDir));
      const book = await books.get(`${src.path}|${bookIndex}`, () => readBook(src, bookIndex));
      try {
        firstTokens(ctx.tokenizer(job.model), book.text, job.contextLen + 1, `--source ${source} (book ${bookIndex}, ${book.title})`);
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        throw new UsageError(`${err.message} for --lengths ${job.contextLen} (the length plus the token its last step predicts)`,
          'ask for a shorter --lengths, or give a longer text (--source, --book)');
      }
    }
  },

  plan(options: PplOptions, _method: MethodSpec, ctx: PlanContext): PlannedJob[] {
    checkContext('ppl', options.lengths, ctx.modelContextLength);
    const src = resolveSource(options.source, dataRoot(ctx.dataDir));
    checkBook(src, options.book ?? 0);
    return options.lengths.map((length) => {
      const prefix = prefixLengthFor(options, length);
      if (prefix >= length) throw new UsageError(`ppl: prefix length ${prefix} must be below the length ${length}`);
      const decodable = length - prefix;
      const evalTokens = options.numEvalTokens ?? decodable;
      if (evalTokens > decodable)
        throw new UsageError(`ppl: numEvalTokens ${evalTokens} exceeds the ${decodable} decode steps of length ${length} (prefix ${prefix})`);
      const book = options.book ?? 0;
      return {
        task: 'ppl',
        dataset: src.label,
        contextLen: length,
        params: { source: options.source, book, protocol: options.protocol, prefix, eval: evalTokens },
        prefixKey: prefix > 0 ? `ppl:source=${options.source}:book=${book}:prefix=${prefix}` : '',
        seed: ctx.seed,
      };
    });
  },

  async run(job: Job, ctx: RunContext): Promise<Measurement[]> {
    const { tokenizer, engine, config } = ctx.model;
    const L = job.contextLen;
    checkContext('ppl', [L], config.contextLength);
    const source = String(job.params.source);
    const bookIndex = Number(job.params.book ?? 0);
    const P = Number(job.params.prefix ?? 0);
    const E = Number(job.params.eval ?? L - P);
    const window = NLL_WINDOW;
    const src = resolveSource(source, dataRoot(ctx.dataDir));
    const book = await books.get(`${src.path}|${bookIndex}`, () => readBook(src, bookIndex));
    // L tokens fed plus the one the last step predicts
    const tokens = tokenCache.get(tokenizer, `${src.path}|${bookIndex}|${L + 1}`, () =>
      firstTokens(tokenizer, book.text, L + 1, `${src.label} book ${bookIndex} (${book.title})`));

    const out: Measurement[] = [];
    const prefix = await ctx.preparePrefix(job.prefixKey, tokens.slice(0, P), job.method, { nll: P > 1 });
    const nll = new Float64Array(L - P);
    const stepMs: number[] = [];
    for (let i = P; i < L; i++) {
      const t0 = performance.now();
      const { logits } = await engine.decode(tokens[i]!, { logits: true });
      stepMs.push(performance.now() - t0);
      nll[i - P] = nllOf(logits, tokens[i + 1]!);
    }
    const scored = nll.subarray(nll.length - E);
    const meanNll = mean(scored);
    const first = L - E + 1; // 0-based index of the first scored token
    out.push(
      {
        metric: 'ppl',
        value: Math.exp(meanNll),
        unit: '',
        n: E,
        detail: detailJson({
          protocol: job.params.protocol,
          scope: `tokens ${first}..${L} (0-based), each predicted by a decode step${P > 0 ? `; the dense prefix 0..${P - 1} is not scored` : ''}`,
          book: book.title,
          window,
          nllWindows: windowMeans(scored, window).map((x) => Number(x.toFixed(4))),
        }, 4000),
      },
      { metric: 'mean_nll', value: meanNll, unit: 'nats', n: E },
      { metric: 'eval_tokens', value: E, unit: 'tokens', n: 1 },
    );
    if (P > 1 && prefix.nll && prefix.nll.length > 0) {
      out.push({ metric: 'prefix_ppl', value: Math.exp(mean(prefix.nll)), unit: '', n: prefix.nll.length, detail: `dense prefill of tokens 0..${P - 1}, the same for every method` });
    }
    out.push(...timingMeasurements({ tokens: P, seconds: prefix.seconds, reused: prefix.reused }, stepMs));
    return out;
  },
};
