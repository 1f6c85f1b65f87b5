// adamas-bench generate: greedy continuation of a prompt, printed as it is produced, with the
// prefill and decode speed on stderr.
import { Command, Option } from 'commander';
import { UsageError } from '../core/errors.js';
import { specProblems } from '../methods/knobs.js';
import { makeSpec, methodLabel, methodNames, toNativeOptions, type MethodName } from '../methods/spec.js';
import { cudaKvCacheNote, kvCacheTypes, weightTypes, type KvCacheType, type WeightType } from '../model/footprint.js';
import { generateGreedy } from '../model/greedy.js';
import { resolveModel } from '../model/catalog.js';
import { engineRefusals, modelFacts } from '../model/model-facts.js';
import { chatPrompt, loadModel } from '../model/model.js';
import { isSyntheticModel, syntheticRefusal } from '../model/synthetic.js';
import { createTextStream } from '../model/tokenizer.js';
import { loadAddon, readGgufMetadata, type BuildInfo } from '../native/addon.js';
import { resolveDevice, type DeviceRequest } from '../runner/device.js';
import { addKnobOptions, knobsFrom, type KnobFlags } from './knob-options.js';
import { addModelOptions, type ModelFlags } from './model-options.js';
import { positiveInt } from './parse.js';

interface GenerateFlags extends ModelFlags, KnobFlags {
  prompt: string;
  maxNewTokens: number;
  device: DeviceRequest;
  weights?: WeightType;
  kvCache?: KvCacheType;
  chat: boolean;
  ignoreEos: boolean;
  method: MethodName;
  budget?: number;
  json: boolean;
}

export function generateCommand(): Command {
  const cmd = new Command('generate')
    .description('generate text greedily from a prompt with the chosen attention method')
    .requiredOption('-p, --prompt <text>', 'the prompt')
    .option('-n, --max-new-tokens <n>', 'new tokens at most', positiveInt, 64)
    .addOption(new Option('--device <kind>', 'where the engine runs: cpu, cuda or auto').choices(['auto', 'cpu', 'cuda']).default('auto'))
    .addOption(new Option('--weights <type>', "the CUDA engine's weight matrices: f16 (default), bf16 or f32").choices([...weightTypes]))
    .addOption(new Option('--kv-cache <type>', "the KV cache's element type: f32 (the CPU's default) or f16 (the CUDA engine's, its only one; on the CPU each key and value rounded to fp16)").choices([...kvCacheTypes]))
    .option('--chat', "wrap the prompt in the model's chat template", false)
    .option('--ignore-eos', 'keep generating past end-of-generation tokens', false)
    .addOption(new Option('--method <name>', 'attention method at decode steps').choices(methodNames).default('full'))
    .option('-b, --budget <n>', 'token budget of the sparse methods (current token included)', positiveInt)
    .option('--json', 'print one JSON object with the text and timings instead', false);
  addModelOptions(cmd);
  addKnobOptions(cmd);
  cmd.addHelpText('after', `
Examples:
  $ adamas-bench generate --prompt "The capital of France is"
  $ adamas-bench generate --chat --prompt "Write a haiku about GPUs" --max-new-tokens 48
  $ adamas-bench generate --method adamas --budget 64 --prompt "$(cat long.txt)"`);
  return cmd.action(async (flags: GenerateFlags) => {
    if (flags.method !== 'full' && flags.budget === undefined)
      throw new UsageError(`--method ${flags.method} needs --budget <n>`);
    const spec = makeSpec(flags.method, flags.budget, knobsFrom(flags));
    // the device, the knobs and the model are checked before the model is loaded
    const device = resolveDevice(flags.device, buildInfo(), { needsEngine: true });
    if (flags.weights && device === 'cpu') throw new UsageError(`--weights ${flags.weights} is for the CUDA engine, and this runs on the CPU`);
    if (flags.kvCache === 'f32' && device === 'cuda') throw new UsageError(`--kv-cache f32 is for the CPU engine, and this runs on CUDA: ${cudaKvCacheNote}`);
    if (isSyntheticModel(flags.model)) throw new UsageError(`--model ${flags.model}: generate ${syntheticRefusal(flags.model)}`);
    const { path } = await resolveModel(flags.model, { cache: flags.cacheDir });
    const facts = modelFacts(readGgufMetadata(path));
    const refusals = engineRefusals(facts);
    if (refusals.length) throw new UsageError(`${path} cannot be loaded by the engine: ${refusals.join('; ')}`);
    const broken = specProblems(spec, facts);
    if (broken.length) throw new UsageError(broken.map((p) => `'${methodLabel(spec)}' ${p}`).join('\n'));
    const model = await loadModel(flags.model, { cache: flags.cacheDir, threads: flags.threads, device,
      ...(flags.weights && { weights: flags.weights }), ...(flags.kvCache && { kvCache: flags.kvCache }) });
    model.engine.setAttention(toNativeOptions(spec));

    const text = flags.chat ? chatPrompt(model, flags.prompt) : flags.prompt;
    const prompt = model.tokenizer.encode(text);
    if (prompt.length === 0) throw new UsageError('the prompt encodes to no tokens');
    if (prompt.length + flags.maxNewTokens > model.config.contextLength)
      process.stderr.write(`warning: ${prompt.length} + ${flags.maxNewTokens} tokens exceed the model's trained context of ${model.config.contextLength}\n`);

    const stream = createTextStream(model.tokenizer, { skipSpecial: true });
    const result = await generateGreedy(model.engine, prompt, {
      maxTokens: flags.maxNewTokens,
      stopIds: flags.ignoreEos ? [] : model.tokenizer.eogIds,
      onToken: flags.json ? undefined : (id) => process.stdout.write(stream.push(id)),
    });
    const prefillRate = result.prefillTokens / result.prefillSeconds;
    const decodeRate = result.decodeSteps / result.decodeSeconds;
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({
        model: model.resolved.path,
        device: `${model.engine.backend}: ${model.engine.deviceName}`,
        method: methodLabel(spec),
        promptTokens: prompt.length,
        tokens: result.tokens,
        text: model.tokenizer.decode(result.tokens, { skipSpecial: true }),
        prefill: { tokens: result.prefillTokens, seconds: result.prefillSeconds, tokensPerSecond: prefillRate },
        decode: { steps: result.decodeSteps, seconds: result.decodeSeconds, tokensPerSecond: decodeRate },
        loadSeconds: model.loadSeconds,
      })}\n`);
      return;
    }
    process.stdout.write(`${stream.flush()}\n`);
    process.stderr.write(
      `\n[${methodLabel(spec)}, ${model.engine.backend}] prefill ${result.prefillTokens} tokens in ${result.prefillSeconds.toFixed(2)} s ` +
        `(${prefillRate.toFixed(1)} tok/s); decode ${result.decodeSteps} tokens in ${result.decodeSeconds.toFixed(2)} s ` +
        `(${decodeRate.toFixed(1)} tok/s); model load ${model.loadSeconds.toFixed(1)} s\n`,
    );
  });
}

function buildInfo(): BuildInfo | undefined {
  try {
    return loadAddon().buildInfo();
  } catch {
    return undefined;
  }
}
