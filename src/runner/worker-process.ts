// The scheduler's side of one worker process: started with execa, spoken to in JSON lines, its
// stderr appended to logs/worker-<n>.log (the last lines kept to explain a crash). A worker that
// sends no message for longer than its time limit (while starting, or during a job) counts as
// hung: it is killed and its job fails with the reason.
import { closeSync, openSync, writeSync } from 'node:fs';
import { fileError } from '../core/files.js';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import type { Job } from '../core/job.js';
import type { LoadedModelInfo } from '../results/meta.js';
import type { WorkerSlot } from './device.js';
import type { FromWorker, JobResult, ToWorker, WorkerInit } from './worker-protocol.js';

/** How to start a worker: node with the compiled worker entry, unless a test injects another. */
export interface WorkerCommand {
  file: string;
  args: string[];
  env?: Record<string, string>;
}

export function defaultWorkerCommand(): WorkerCommand {
  return { file: process.execPath, args: [fileURLToPath(new URL('../worker/main.js', import.meta.url))] };
}

export interface ReadyInfo {
  model?: LoadedModelInfo;
  backend: string;
  device: string;
}

export type JobReply =
  | { status: 'ok'; result: JobResult }
  /** restart: the worker said it ends after this job (it is not to be given another). */
  | { status: 'failed'; error: string; code?: string; seconds: number; crashed: boolean; restart?: boolean };

/** A worker that failed or died before it was ready. */
export class WorkerStartError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
    this.name = 'WorkerStartError';
  }
}

type Waiter =
  | { kind: 'init'; resolve: (r: ReadyInfo) => void; reject: (e: Error) => void }
  | { kind: 'job'; jobId: string; started: number; resolve: (r: JobReply) => void };

const TAIL_LINES = 20;

/** The code of a job whose worker went silent past its time limit. */
export const jobTimeoutCode = 'ERR_JOB_TIMEOUT';

export class WorkerProcess {
  private readonly sub: ResultPromise;
  private readonly logFd: number;
  private waiter: Waiter | undefined;
  private tail: string[] = [];
  private partial = '';
  private exited: { code: number | null; signal: string | null } | undefined;
  private logClosed = false;
  private readonly logPath: string;
  /** Set when the worker was killed for its silence: why. */
  private hung: string | undefined;
  private silence: { timer: NodeJS.Timeout; ms: number; what: string; limit: string } | undefined;
  readonly model: string;
  /** Whether it was started to load its model (set by start). */
  loadsModel = false;

  constructor(
    readonly slot: WorkerSlot,
    readonly number: number,
    command: WorkerCommand,
    logPath: string,
    model: string,
    private readonly onLog: (message: string) => void,
  ) {
    this.model = model;
    this.logPath = logPath;
    try {
      this.logFd = openSync(logPath, 'a');
    } catch (err) {
      throw fileError(err, 'open', logPath);
    }
    this.sub = execa(command.file, command.args, {
      env: { ...command.env, ...slot.env },
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      cleanup: true,
    });
    this.sub.catch(() => {});
    this.sub.stdin?.on('error', () => {}); // EPIPE when the worker is gone: the close event reports it
    this.sub.stderr?.on('data', (chunk: Buffer) => this.onStderr(chunk));
    const rl = createInterface({ input: this.sub.stdout!, crlfDelay: Infinity });
    rl.on('line', (line) => this.onLine(line));
    this.sub.on('close', (code: number | null, signal: string | null) => this.onClose(code, signal));
  }

  get pid(): number | undefined {
    return this.sub.pid;
  }

  get alive(): boolean {
    return this.exited === undefined;
  }

  private writeLog(text: string): void {
    if (this.logClosed) return;
    try {
      writeSync(this.logFd, text);
    } catch (err) {
      // a full disk must not kill the run from inside an event handler: stop logging, say why once
      this.logClosed = true;
      closeSync(this.logFd);
      this.onLog(fileError(err, 'write', this.logPath).message);
    }
  }

  /** (Re)arms the silence timer: the worker must send a message within `ms`. */
  private watch(ms: number | undefined, what: string, limit: string): void {
    this.unwatch();
    if (ms === undefined || !Number.isFinite(ms) || ms <= 0) return;
    const timer = setTimeout(() => {
      this.hung = `hung: no message from the worker for ${formatSeconds(ms)} ${what} (${limit}); killed it`;
      this.kill();
    }, ms);
    timer.unref();
    this.silence = { timer, ms, what, limit };
  }

  private unwatch(): void {
    if (this.silence) clearTimeout(this.silence.timer);
    this.silence = undefined;
  }

  private onStderr(chunk: Buffer): void {
    const text = chunk.toString('utf8');
    this.writeLog(text);
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    this.tail.push(...lines.filter((l) => l.trim() !== ''));
    if (this.tail.length > TAIL_LINES) this.tail.splice(0, this.tail.length - TAIL_LINES);
  }

  /** The last lines the worker wrote to stderr. */
  stderrTail(lines = 8): string[] {
    const all = this.partial.trim() ? [...this.tail, this.partial] : this.tail;
    return all.slice(-lines);
  }

  private onLine(line: string): void {
    if (this.silence) this.watch(this.silence.ms, this.silence.what, this.silence.limit);
    let msg: FromWorker;
    try {
      msg = JSON.parse(line) as FromWorker;
    } catch {
      this.writeLog(`[stdout] ${line}\n`); // a task printed to stdout: keep it, it is not protocol
      return;
    }
    const w = this.waiter;
    switch (msg.type) {
      case 'log':
        this.writeLog(`[log] ${msg.message}\n`);
        this.onLog(msg.message);
        return;
      case 'ready':
        if (w?.kind === 'init') {
          this.waiter = undefined;
          this.unwatch();
          w.resolve({ model: msg.model, backend: msg.backend, device: msg.device });
        }
        return;
      case 'result':
        if (w?.kind === 'job' && w.jobId === msg.result.jobId) {
          this.waiter = undefined;
          this.unwatch();
          w.resolve({ status: 'ok', result: msg.result });
        }
        return;
      case 'failed':
        if (w?.kind === 'init' && msg.jobId === '') {
          this.waiter = undefined;
          this.unwatch();
          w.reject(new WorkerStartError(msg.error, msg.code));
        } else if (w?.kind === 'job' && w.jobId === msg.jobId) {
          this.waiter = undefined;
          this.unwatch();
          w.resolve({ status: 'failed', error: msg.error, ...(msg.code !== undefined && { code: msg.code }), seconds: msg.seconds, crashed: false,
            ...(msg.restart && { restart: true }) });
        }
        return;
    }
  }

  private exitDescription(): string {
    const e = this.exited;
    const how = this.hung ?? (!e ? 'worker exited' : e.signal ? `worker was killed by ${e.signal}` : `worker exited with code ${e.code}`);
    const tail = this.stderrTail();
    return tail.length ? `${how} (last stderr line: ${tail[tail.length - 1]})\nlast stderr lines:\n${tail.map((l) => `  ${l}`).join('\n')}` : how;
  }

  private onClose(code: number | null, signal: string | null): void {
    this.exited = { code, signal };
    this.unwatch();
    const w = this.waiter;
    this.waiter = undefined;
    if (w?.kind === 'init') w.reject(new WorkerStartError(`${this.exitDescription()}`));
    else if (w?.kind === 'job')
      w.resolve({ status: 'failed', error: this.exitDescription(), seconds: (performance.now() - w.started) / 1000, crashed: true,
        ...(this.hung !== undefined && { code: jobTimeoutCode }) });
    if (!this.logClosed) {
      this.logClosed = true;
      closeSync(this.logFd);
    }
  }

  private send(msg: ToWorker): void {
    if (this.alive) this.sub.stdin?.write(`${JSON.stringify(msg)}\n`);
  }

  /** Sends 'init'; resolves when the worker is ready, rejects (WorkerStartError) when it fails,
   *  dies or stays silent for `timeoutMs`. */
  start(init: Omit<WorkerInit, 'type'>, timeoutMs?: number): Promise<ReadyInfo> {
    return new Promise((resolve, reject) => {
      if (!this.alive) return reject(new WorkerStartError(this.exitDescription()));
      this.waiter = { kind: 'init', resolve, reject };
      this.loadsModel = init.loadModel;
      this.watch(timeoutMs, 'while it started', 'the limit for a worker to start');
      this.send({ type: 'init', ...init });
    });
  }

  /** Runs one job; never rejects: a failure, the worker's death or its silence for `timeoutMs`
   *  (it is then killed) is a 'failed' reply. */
  run(job: Job, timeoutMs?: number): Promise<JobReply> {
    return new Promise((resolve) => {
      const started = performance.now();
      if (!this.alive) return resolve({ status: 'failed', error: this.exitDescription(), seconds: 0, crashed: true });
      this.waiter = { kind: 'job', jobId: job.id, started, resolve };
      this.watch(timeoutMs, 'during the job', "the job's time limit: 10x its estimate, at least 60 s, or --job-timeout");
      this.send({ type: 'job', job });
    });
  }

  /** Asks the worker to finish (it exits when its stdin closes) and kills it if it does not. */
  async shutdown(graceMs = 5000): Promise<void> {
    if (!this.alive) return;
    this.send({ type: 'shutdown' });
    this.sub.stdin?.end();
    const timer = setTimeout(() => this.kill(), graceMs);
    await this.sub;
    clearTimeout(timer);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.alive) this.sub.kill(signal);
  }

  /** Resolves when the process has exited. */
  async exitedPromise(): Promise<void> {
    await this.sub;
  }
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}
