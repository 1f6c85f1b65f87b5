// Synthetic models ('synthetic:llama2-7b', ...): the shapes of real models with seeded random
// weights, made by the engine itself (native/src/model/synthetic.h), for timing runs where the
// weights do not change the cost. No file, no digest, no tokenizer: tasks that need text refuse
// them.
import { UsageError } from '../core/errors.js';
import { loadAddon, type SyntheticModelInfo } from '../native/addon.js';

export const syntheticPrefix = 'synthetic:';

export function isSyntheticModel(spec: string): boolean {
  return spec.startsWith(syntheticPrefix);
}

/** Why a task that needs text cannot run on a synthetic model (the end of a sentence naming the task). */
export function syntheticRefusal(model: string): string {
  return `needs a model with a tokenizer and trained weights; '${model}' has random weights and no tokenizer ` +
    '(synthetic models are for the timing tasks: e2e, kernels)';
}

/** The presets the addon knows. */
export function syntheticModels(): SyntheticModelInfo[] {
  return loadAddon().syntheticModels();
}

/** The preset of `spec`, or a usage error naming the presets. */
export function syntheticModel(spec: string, presets: readonly SyntheticModelInfo[] = syntheticModels()): SyntheticModelInfo {
  const found = presets.find((p) => p.name === spec);
  if (found) return found;
  throw new UsageError(`unknown synthetic model '${spec}'`, `synthetic models: ${presets.map((p) => p.name).join(', ')}`);
}
