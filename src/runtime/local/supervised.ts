/**
 * One child process kept running by the supervisor: output piped through the
 * supervisor into its log file (whole lines, rotated at a size cap), restarted with
 * exponential back-off after a crash, restarts counted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { backoffDelayMs } from '../../core/poll.js';
import type { ServiceState } from '../types.js';
import { LineBuffer, LOG_ROTATE_BYTES, RotatingLog } from './log-writer.js';
import type { OwnedProcess } from './state.js';

export const RESTART_BASE_MS = 500;
export const RESTART_CAP_MS = 10_000;
/** A process that stayed up this long is healthy again: the back-off starts over. */
export const STABLE_AFTER_MS = 30_000;
/** How long a stop waits for the output of an exited child to reach its log. */
const OUTPUT_DRAIN_MS = 2_000;

/** Delay before the n-th consecutive restart (n ≥ 1): 0.5 s, 1 s, 2 s … capped at 10 s. */
export function restartDelayMs(consecutive: number, baseMs = RESTART_BASE_MS, capMs = RESTART_CAP_MS): number {
  return backoffDelayMs(consecutive, { intervalMs: baseMs, backoff: 2, maxIntervalMs: capMs });
}

/** The line the supervisor adds to a service's own log before restarting it (pino-shaped, marked `ecom`). */
export function restartNote(service: string, how: string, delayMs: number, restart: number, now = new Date()): string {
  const msg = `exited (${how}); restarting in ${delayMs} ms (restart ${restart})`;
  return JSON.stringify({ level: 'warn', time: now.toISOString(), service, msg, ecom: 'supervisor' });
}

export interface SupervisedOptions {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  logFile: string;
  /** Rotate the log file past this size (LOG_ROTATE_BYTES by default). */
  rotateBytes?: number;
  /** Substrings of the command line proving the pid is ours. */
  markers: string[];
  /** Called on every state change, so the state file stays current. */
  onChange: () => void;
  log: (message: string) => void;
}

export class SupervisedProcess {
  state: ServiceState = 'stopped';
  restarts = 0;
  startedAt: Date | undefined;
  lastExit: { code: number | null; signal: string | null; at: string } | undefined;
  private child: ChildProcess | undefined;
  /** Resolves when the current child's stdout and stderr have ended. */
  private output: Promise<void> = Promise.resolve();
  private readonly logFile: RotatingLog;
  private consecutive = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(private readonly opts: SupervisedOptions) {
    this.logFile = new RotatingLog(opts.logFile, opts.rotateBytes ?? LOG_ROTATE_BYTES, (m) => opts.log(`${opts.name}: ${m}`));
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get owned(): OwnedProcess | undefined {
    return this.child?.pid ? { pid: this.child.pid, markers: this.opts.markers } : undefined;
  }

  start(): void {
    this.stopping = false;
    this.spawnChild();
  }

  /** SIGTERM, then SIGKILL after `graceMs`; no restart afterwards. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(killer);
    }
    await this.outputDrained();
    this.logFile.close();
    this.setState('stopped');
  }

  /** The child's last lines reach the log, unless a grandchild holds the pipe open. */
  private async outputDrained(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const capped = new Promise<void>((resolve) => (timer = setTimeout(resolve, OUTPUT_DRAIN_MS)));
    await Promise.race([this.output, capped]);
    clearTimeout(timer);
  }

  private spawnChild(): void {
    const child = spawn(this.opts.command, this.opts.args, { env: this.opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.output = Promise.all([this.capture(child.stdout), this.capture(child.stderr)]).then(() => {});
    this.child = child;
    this.startedAt = new Date();
    this.setState('starting');
    child.once('spawn', () => this.setState('running'));
    child.once('error', (err) => this.opts.log(`${this.opts.name}: cannot start: ${err.message}`));
    child.once('exit', (code, signal) => this.onExit(child, code, signal));
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child) return;
    this.lastExit = { code, signal, at: new Date().toISOString() };
    if (this.stopping) return;
    const upMs = this.startedAt ? Date.now() - this.startedAt.getTime() : 0;
    this.consecutive = upMs >= STABLE_AFTER_MS ? 1 : this.consecutive + 1;
    const delay = restartDelayMs(this.consecutive);
    this.opts.log(`${this.opts.name} exited (${signal ?? `code ${code}`}) after ${upMs} ms; restarting in ${delay} ms`);
    this.restarts += 1;
    this.setState('restarting');
    const note = restartNote(this.opts.name, signal ? `signal ${signal}` : `code ${code}`, delay, this.restarts);
    // After the dead child's last lines, so its log reads in order: its output, why it stopped, the new start.
    void this.outputDrained().then(() => {
      if (this.stopping) return;
      this.logFile.write(Buffer.from(`${note}\n`));
      this.timer = setTimeout(() => {
        if (!this.stopping) this.spawnChild();
      }, delay);
    });
  }

  /** Appends a stream's whole lines to the log file; resolves when the stream is done. */
  private capture(stream: Readable | null): Promise<void> {
    if (!stream) return Promise.resolve();
    const lines = new LineBuffer();
    stream.on('data', (chunk: Buffer) => this.logFile.write(lines.push(chunk)));
    return new Promise((resolve) => {
      stream.once('close', () => {
        this.logFile.write(lines.flush());
        resolve();
      });
    });
  }

  private setState(state: ServiceState): void {
    this.state = state;
    this.opts.onChange();
  }
}
