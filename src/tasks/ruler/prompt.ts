// A RULER case as the model sees it: the user turn (in the model's chat template, when used) with
// the answer prefix after the assistant header, as RULER appends the answer prefix to the model
// template. Everything up to the end of the haystack is prefilled densely; the question after it,
// the template's closing and the answer prefix are decoded token by token (at most maxTailChars).
import { fitToTokens } from '../common/fit.js';
import type { RulerCase, RulerText } from './cases.js';
import { vtExample } from './cases.js';

export const MAX_TAIL_CHARS = 600;

export interface PromptTokenizer {
  encode(text: string, opts?: { addBos?: boolean }): number[];
}

export interface AssembledPrompt {
  full: string;
  head: string;
  tail: string;
}

export function assemble(text: RulerText, chat: ((user: string) => string) | undefined, maxTailChars = MAX_TAIL_CHARS): AssembledPrompt {
  const wrapped = chat ? chat(text.user) : text.user;
  const full = wrapped + text.answerPrefix;
  const userAt = chat ? wrapped.indexOf(text.user) : 0;
  if (userAt < 0) throw new Error('the chat template changed the prompt text; cannot locate the haystack in it');
  const split = Math.max(userAt + text.contextEnd, full.length - maxTailChars);
  return { full, head: full.slice(0, split), tail: full.slice(split) };
}

export interface RulerPrompt extends AssembledPrompt {
  headIds: number[];
  tailIds: number[];
  /** Prompt tokens (head + tail). */
  tokens: number;
  /** Haystack size used. */
  n: number;
  outputs: string[];
  maxNewTokens: number;
}

/**
 * The largest haystack whose prompt plus the tokens to generate fits `length` tokens (RULER counts
 * the tokens to generate in max_seq_length); `maxNewTokens` caps the task's tokens to generate.
 */
export function buildRulerPrompt(
  tok: PromptTokenizer,
  rcase: RulerCase,
  length: number,
  chat: ((user: string) => string) | undefined,
  maxNewTokens?: number,
): RulerPrompt {
  const gen = Math.min(rcase.build(rcase.minN).maxNewTokens, maxNewTokens ?? Infinity);
  const build = (n: number): RulerPrompt => {
    const text = rcase.build(n);
    const a = assemble(text, chat);
    const headIds = tok.encode(a.head);
    const tailIds = tok.encode(a.tail, { addBos: false });
    return { ...a, headIds, tailIds, tokens: headIds.length + tailIds.length, n, outputs: text.outputs, maxNewTokens: gen };
  };
  const fit = fitToTokens({
    target: length,
    build,
    count: (p) => p.tokens + gen,
    guess: rcase.guess(length),
    minN: rcase.minN,
    what: `the ${rcase.subtask} prompt (with ${gen} tokens to generate)`,
  });
  return fit.built;
}

/**
 * Noise sentences of the variable-tracking example: the most that keep it within
 * min(500, length / 4) tokens (RULER makes its example with max_seq_length 500).
 */
export function fitVtExampleNoise(tok: PromptTokenizer, caseSeed: number, length: number): number {
  const target = Math.min(500, Math.floor(length / 4));
  try {
    return fitToTokens({
      target,
      build: (n) => vtExample(caseSeed, n),
      count: (s) => tok.encode(s, { addBos: false }).length,
      guess: Math.round(target / 22),
      minN: 5,
      what: 'the variable-tracking example',
    }).n;
  } catch {
    return 5;
  }
}
