// What the GGUF header says about a model, read without loading it: its architecture, layers,
// head dimension and context length (the keys the engine reads, native/src/model/config.cpp), and
// the tensor types the engine cannot load. A run checks these before anything is written.
import type { GgufInfo, GgufValue, SyntheticModelInfo } from '../native/addon.js';

/** Tensor types the engine decodes (native/src/gguf/gguf.cpp, TensorInfo::supported). */
export const engineTensorTypes: readonly string[] = ['F32', 'F16', 'BF16', 'Q8_0', 'Q4_0', 'Q4_1'];
/** Architectures the engine runs (native/src/model/config.cpp). */
export const engineArchitectures: readonly string[] = ['llama', 'mistral', 'qwen2'];

export interface ModelFacts {
  path: string;
  arch: string;
  layers?: number;
  headDim?: number;
  /** KV heads (the KV cache's width with layers and headDim). */
  kvHeads?: number;
  /** Elements of every tensor (the weights as the engines hold them, whatever the file's types). */
  parameters?: number;
  contextLength?: number;
  /** Tensor types of the file that the engine cannot load: how many tensors, and the first one. */
  unsupportedTypes: { type: string; tensors: number; first: string }[];
}

function positive(v: GgufValue | undefined): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined;
}

export function modelFacts(info: GgufInfo): ModelFacts {
  const md = info.metadata;
  const arch = typeof md['general.architecture'] === 'string' ? md['general.architecture'] : '';
  const key = (k: string) => positive(md[`${arch}.${k}`]);
  const heads = key('attention.head_count');
  const width = key('embedding_length');
  const headDim = key('attention.key_length') ?? (heads && width ? Math.floor(width / heads) : undefined);
  const kvHeads = key('attention.head_count_kv') ?? heads;
  const parameters = info.tensors.reduce((sum, t) => sum + t.shape.reduce((p, d) => p * d, 1), 0);
  const unsupported = new Map<string, { type: string; tensors: number; first: string }>();
  for (const t of info.tensors) {
    if (engineTensorTypes.includes(t.type)) continue;
    const u = unsupported.get(t.type);
    if (u) u.tensors++;
    else unsupported.set(t.type, { type: t.type, tensors: 1, first: t.name });
  }
  return {
    path: info.path,
    arch,
    ...(key('block_count') !== undefined && { layers: key('block_count') }),
    ...(headDim !== undefined && { headDim }),
    ...(kvHeads !== undefined && { kvHeads }),
    ...(info.tensors.length > 0 && { parameters }),
    ...(key('context_length') !== undefined && { contextLength: key('context_length') }),
    unsupportedTypes: [...unsupported.values()],
  };
}

/** The facts of a synthetic preset: its shape, no file (path is its name), nothing unsupported. */
export function syntheticModelFacts(m: SyntheticModelInfo): ModelFacts {
  const c = m.config;
  return { path: m.name, arch: c.arch, layers: c.nLayers, headDim: c.headDim, kvHeads: c.nKvHeads, parameters: m.parameters,
    contextLength: c.contextLength, unsupportedTypes: [] };
}

/** Why the engine would refuse the file, each a sentence; empty when it would load it. */
export function engineRefusals(facts: ModelFacts): string[] {
  const out: string[] = [];
  if (!engineArchitectures.includes(facts.arch))
    out.push(`architecture '${facts.arch || '(none)'}' is not supported (supported: ${engineArchitectures.join(', ')})`);
  for (const u of facts.unsupportedTypes)
    out.push(`${u.tensors} tensor${u.tensors > 1 ? 's are' : ' is'} of type ${u.type} (the first: '${u.first}'), which the engine cannot load ` +
      `(it loads ${engineTensorTypes.join(', ')})`);
  return out;
}
