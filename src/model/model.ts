// A loaded model: the native engine plus the tokenizer and chat template from the same file.
import { basename } from 'node:path';
import { loadAddon, type ModelConfig, type NativeEngine } from '../native/addon.js';
import { chatTemplateFromMetadata, renderChat } from './chat.js';
import { resolveModel, type ResolvedModel } from './catalog.js';
import { Tokenizer } from './tokenizer.js';

export interface LoadedModel {
  resolved: ResolvedModel;
  engine: NativeEngine;
  tokenizer: Tokenizer;
  chatTemplate?: string;
  config: ModelConfig;
  loadSeconds: number;
}

export interface LoadOptions {
  cache?: string;
  threads?: number;
}

export async function loadModel(spec: string, opts: LoadOptions = {}): Promise<LoadedModel> {
  const resolved = await resolveModel(spec, { cache: opts.cache });
  const t0 = performance.now();
  const addon = loadAddon();
  const { metadata } = addon.readGguf(resolved.path);
  const source = basename(resolved.path);
  const tokenizer = new Tokenizer(metadata, { source });
  const engine = new addon.Engine(resolved.path, { threads: opts.threads });
  return {
    resolved,
    engine,
    tokenizer,
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
