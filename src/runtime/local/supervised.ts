/**
 * One child process kept running by the supervisor (a service, PostgreSQL, the broker
 * node, Prometheus): restarted with exponential back-off after it dies, restarts
 * counted, its log capped (log-writer.ts).
 *
 * The child writes its log file itself: the supervisor opens the file (O_APPEND) and
 * hands the descriptor over as the child's stdout and stderr, instead of piping the
 * output through itself. A pipe ends with the supervisor: when the supervisor is
 * SIGKILLed, every line written after it would be lost, and a Node service writing to
 * a pipe with no reader fails with EPIPE. An inherited file descriptor outlives the
 * supervisor, so a child keeps logging until `ecom up` or `ecom down` deals with it.
 * O_APPEND keeps lines from stdout and stderr whole (each write lands at the end).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync } from 'node:fs';
import { backoffDelayMs } from '../../core/poll.js';
import type { ServiceState } from '../types.js';
import { appendToLog, openLogForAppend } from './log-files.js';
import { LOG_ROTATE_BYTES, ROTATE_CHECK_MS, rotateIfOver } from './log-writer.js';
import type { OwnedProcess } from './state.js';

export const RESTART_BASE_MS = 500;
export const RESTART_CAP_MS = 10_000;
/** A process that stayed up this long is healthy again: the back-off starts over. */
export const STABLE_AFTER_MS = 30_000;

/** Delay before the n-th consecutive restart (n ≥ 1): 0.5 s, 1 s, 2 s … capped at 10 s. */
export function restartDelayMs(consecutive: number, baseMs = RESTART_BASE_MS, capMs = RESTART_CAP_MS): number {
  return backoffDelayMs(consecutive, { intervalMs: baseMs, backoff: 2, maxIntervalMs: capMs });
}

/** The line the supervisor adds to a part's own log before restarting it (pino-shaped, marked `ecom`). */
export function restartNote(service: string, how: string, delayMs: number, restart: number, now = new Date()): string {
  const msg = `exited (${how}); restarting in ${delayMs} ms (restart ${restart})`;
  return JSON.stringify({ level: 'warn', time: now.toISOString(), service, msg, ecom: 'supervisor' });
}

export interface LastExit {
  code: number | null;
  signal: string | null;
  at: string;
  /** The process that exited (absent in state written before it was recorded). */
  pid?: number;
}

export interface SupervisedOptions {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  logFile: string;
  /** Rotate the log file past this size (LOG_ROTATE_BYTES by default). */
  rotateBytes?: number;
  /** How often the size is checked (ROTATE_CHECK_MS by default). */
  rotateCheckMs?: number;
  /** Substrings of the command line (or environment) proving the pid is ours. */
  markers: string[];
  cwd?: string;
  /** Run as this user and group (PostgreSQL refuses to run as root). */
  uid?: number;
  gid?: number;
  /** Pids to SIGKILL with the child when a stop's grace runs out (an Erlang VM under its wrapper script). */
  descendants?: () => number[];
  /** Before each restart: clear what the dead process left behind (a VM that outlived its script). */
  beforeRestart?: () => Promise<void>;
  /** Called on every state change, so the state file stays current. */
  onChange: () => void;
  log: (message: string) => void;
}

export class SupervisedProcess {
  state: ServiceState = 'stopped';
  restarts = 0;
  startedAt: Date | undefined;
  lastExit: LastExit | undefined;
  /** When the last restart was decided, and why. */
  lastRestart: { at: string; reason: string } | undefined;
  private child: ChildProcess | undefined;
  private consecutive = 0;
  private timer: NodeJS.Timeout | undefined;
  private rotation: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(private readonly opts: SupervisedOptions) {}

  get name(): string {
    return this.opts.name;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The live child, while it runs. */
  get owned(): OwnedProcess | undefined {
    const child = this.child;
    return child?.pid && child.exitCode === null && child.signalCode === null ? { pid: child.pid, markers: this.opts.markers } : undefined;
  }

  start(): void {
    this.stopping = false;
    this.spawnChild();
    this.rotation ??= setInterval(() => this.rotateLog(), this.opts.rotateCheckMs ?? ROTATE_CHECK_MS).unref();
  }

  /** SIGTERM (or `signal`), then SIGKILL after `graceMs`; no restart afterwards. */
  async stop(graceMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.rotation) clearInterval(this.rotation);
    this.rotation = undefined;
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const descendants = this.opts.descendants?.() ?? [];
      child.kill(signal);
      const killer = setTimeout(() => {
        child.kill('SIGKILL');
        for (const pid of descendants) killQuietly(pid);
      }, graceMs);
      await exited;
      clearTimeout(killer);
    }
    this.setState('stopped');
  }

  private spawnChild(): void {
    const { command, args, env, cwd, uid, gid } = this.opts;
    const fd = openLogForAppend(this.opts.logFile);
    let child: ChildProcess;
    try {
      child = spawn(command, args, { env, cwd, uid, gid, stdio: ['ignore', fd, fd] });
    } finally {
      // The child holds its own copy of the descriptor from here on.
      closeSync(fd);
    }
    this.child = child;
    this.startedAt = new Date();
    this.setState('starting');
    child.once('spawn', () => this.setState('running'));
    child.once('error', (err) => this.opts.log(`[error] ${this.opts.name}: cannot start: ${err.message}`));
    child.once('exit', (code, signal) => this.onExit(child, code, signal));
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child) return;
    this.lastExit = { code, signal, at: new Date().toISOString(), pid: child.pid };
    if (this.stopping) return;
    const upMs = this.startedAt ? Date.now() - this.startedAt.getTime() : 0;
    this.consecutive = upMs >= STABLE_AFTER_MS ? 1 : this.consecutive + 1;
    const delay = restartDelayMs(this.consecutive);
    const how = signal ? `signal ${signal}` : `code ${code}`;
    this.opts.log(`[warn] ${this.opts.name} exited (${signal ?? `code ${code}`}) after ${upMs} ms; restarting in ${delay} ms (restart ${this.restarts + 1})`);
    this.restarts += 1;
    this.lastRestart = { at: this.lastExit.at, reason: how };
    // After the dead child's last lines (it wrote them itself), before the new run's.
    appendToLogQuietly(this.opts.logFile, `${restartNote(this.opts.name, how, delay, this.restarts)}\n`, this.opts.log);
    this.setState('restarting');
    this.timer = setTimeout(() => void this.respawnAfterBackoff(), delay);
  }

  private async respawnAfterBackoff(): Promise<void> {
    if (this.stopping) return;
    try {
      await this.opts.beforeRestart?.();
    } catch (err) {
      this.opts.log(`${this.opts.name}: before restarting: ${(err as Error).message}`);
    }
    if (!this.stopping) this.spawnChild();
  }

  private rotateLog(): void {
    rotateIfOver(this.opts.logFile, this.opts.rotateBytes ?? LOG_ROTATE_BYTES, (m) => this.opts.log(`${this.opts.name}: ${m}`));
  }

  private setState(state: ServiceState): void {
    this.state = state;
    this.opts.onChange();
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function appendToLogQuietly(file: string, text: string, log: (message: string) => void): void {
  try {
    appendToLog(file, text);
  } catch (err) {
    log(`cannot write ${file}: ${(err as Error).message}`);
  }
}
