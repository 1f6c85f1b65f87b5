// Progress on stderr: one cli-progress bar (jobs done/total, ETA, current job) on a terminal;
// plain "[k/N] label ... ok (12.3 s)" lines otherwise (logs, CI), in the spirit of NVBench's
// "Run: [k/N]" lines.
import cliProgress from 'cli-progress';

export interface Progress {
  /** `done` jobs were already finished before this run (resume). */
  start(total: number, done: number): void;
  jobStarted(label: string): void;
  jobFinished(label: string, ok: boolean, seconds: number, error?: string): void;
  /** A message that must not break the bar. */
  log(message: string): void;
  stop(): void;
}

function firstLine(s: string): string {
  const line = s.split('\n', 1)[0];
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

/** A stream to write progress to; a bar is drawn only when it is a terminal. */
export type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean };

export function createProgress(stream: ProgressStream = process.stderr, tty: boolean = stream.isTTY === true): Progress {
  return tty ? barProgress(stream as NodeJS.WriteStream) : lineProgress(stream);
}

function lineProgress(stream: NodeJS.WritableStream): Progress {
  let total = 0;
  let k = 0;
  return {
    start(t, done) {
      total = t;
      k = done;
    },
    jobStarted() {},
    jobFinished(label, ok, seconds, error) {
      k++;
      stream.write(`[${k}/${total}] ${label} ... ${ok ? 'ok' : 'FAILED'} (${seconds.toFixed(1)} s)${ok || !error ? '' : `: ${firstLine(error)}`}\n`);
    },
    log(message) {
      stream.write(`${message}\n`);
    },
    stop() {},
  };
}

function barProgress(stream: NodeJS.WriteStream): Progress {
  const multi = new cliProgress.MultiBar({
    stream,
    format: ' {bar} {value}/{total} jobs | {percentage}% | ETA {eta_formatted} | {label}',
    hideCursor: true,
    clearOnComplete: false,
    etaBuffer: 20,
    fps: 5,
  }, cliProgress.Presets.shades_classic);
  let bar: cliProgress.SingleBar | undefined;
  let stopped = false;
  return {
    start(total, done) {
      bar = multi.create(total, done, { label: '' });
    },
    jobStarted(label) {
      bar?.update({ label });
    },
    jobFinished(label, ok, seconds, error) {
      if (!ok) multi.log(`FAILED ${label} (${seconds.toFixed(1)} s)${error ? `: ${firstLine(error)}` : ''}\n`);
      bar?.increment(1);
    },
    log(message) {
      if (stopped) stream.write(`${message}\n`);
      else multi.log(`${message}\n`);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar?.update({ label: 'done' });
      multi.stop();
    },
  };
}
