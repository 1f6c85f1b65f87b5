// A loaded model: the native engine (on the CPU or the GPU) plus the tokenizer and chat template
// from the same file. A synthetic model is an engine alone: it has no file and no tokenizer.
import { basename } from 'node:path';
import { loadAddon, type ModelConfig, type NativeEngine } from '../native/addon.js';
import { chatTemplateFromMetadata, renderChat } from './chat.js';
import { resolveModel, type ResolvedModel } from './catalog.js';
import { defaultWeightType, type KvCacheType, type WeightType } from './footprint.js';
import { isSyntheticModel, syntheticModel, syntheticRefusal } from './synthetic.js';
import { Tokenizer } from './tokenizer.js';

export interface LoadedModel {
  /** For a synthetic model, path is its name. */
  resolved: ResolvedModel;
  engine: NativeEngine;
  /** The file's tokenizer; reading it on a synthetic model throws, naming the model. */
  tokenizer: Tokenizer;
  /** Seeded random weights of a preset's shape (no file, no tokenizer). */
  synthetic: boolean;
  /** The CUDA engine's weight type; absent on the CPU (float32). */
  weights?: WeightType;
  chatTemplate?: string;
  config: ModelConfig;
  loadSeconds: number;
}

export interface LoadOptions {
  cache?: string;
  threads?: number;
  /** Where the engine runs ['cpu']. */
  device?: 'cpu' | 'cuda';
  /** The CUDA engine's weight type [defaultWeightType]; ignored on the CPU. */
  weights?: WeightType;
  /** The KV cache's element type [the engine's own: f32 on the CPU, f16 on CUDA]; f16 on the CPU
   *  rounds each stored key and value to fp16; CUDA refuses f32. */
  kvCache?: KvCacheType;
}

export async function loadModel(spec: string, opts: LoadOptions = {}): Promise<LoadedModel> {
  const addon = loadAddon();
  const device = opts.device ?? 'cpu';
  const weights = device === 'cuda' ? opts.weights ?? defaultWeightType : undefined;
  const engineOptions = { ...(opts.threads !== undefined && { threads: opts.threads }), device, ...(weights && { weightType: weights }),
    ...(opts.kvCache && { kvCache: opts.kvCache }) };
  if (isSyntheticModel(spec)) {
    syntheticModel(spec);
    const t0 = performance.now();
    const engine = new addon.Engine(spec, engineOptions);
    return {
      resolved: { spec, path: spec },
      engine,
      get tokenizer(): Tokenizer {
        throw new Error(`this task ${syntheticRefusal(spec)}`);
      },
      synthetic: true,
      ...(weights && { weights }),
      config: engine.config,
      loadSeconds: (performance.now() - t0) / 1000,
    };
  }
  const resolved = await resolveModel(spec, { cache: opts.cache });
  const t0 = performance.now();
  const { metadata } = addon.readGguf(resolved.path);
  const source = basename(resolved.path);
  const tokenizer = new Tokenizer(metadata, { source });
  const engine = new addon.Engine(resolved.path, engineOptions);
  return {
    resolved,
    engine,
    tokenizer,
    synthetic: false,
    ...(weights && { weights }),
    chatTemplate: chatTemplateFromMetadata(metadata, source),
    config: engine.config,
    loadSeconds: (performance.now() - t0) / 1000,
  };
}

/** The model's chat template applied to one user message, ready for the assistant's answer. */
export function chatPrompt(model: LoadedModel, user: string): string {
  if (!model.chatTemplate) throw new Error(`${basename(model.resolved.path)} has no chat template (tokenizer.chat_template)`);
  return renderChat(model.chatTemplate, [{ role: 'user', content: user }], {
    addGenerationPrompt: true,
    bosToken: model.tokenizer.bosToken,
    eosToken: model.tokenizer.eosToken,
  });
}
