// Options of every command that loads a model: which model, where the cache is, how many threads.
import { Command } from 'commander';
import { positiveInt } from './parse.js';

export interface ModelFlags {
  model: string;
  cacheDir?: string;
  threads?: number;
}

export function addModelOptions(cmd: Command): Command {
  return cmd
    .option('-m, --model <name|path>', "model: 'default', a registry name, or a GGUF file", 'default')
    .option('--cache-dir <dir>', 'model cache (env ADAMAS_BENCH_CACHE; default ~/.cache/adamas-bench)')
    .option('--threads <n>', 'CPU threads (default: all cores)', positiveInt);
}
