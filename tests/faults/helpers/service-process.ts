/**
 * A service started as a real process from the build (dist/services/<name>/main.js),
 * as the local runtime starts it: its JSON log lines kept for assertions, its port read
 * from its "listening" line, stopped with a signal like the supervisor does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from '../../helpers/build.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const START_TIMEOUT_MS = 30_000;

export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

/** A service's process from its spawn on, before it may be listening. */
export interface LaunchedService {
  readonly name: string;
  readonly pid: number;
  /** Exit code (null when killed by a signal), once the process has exited. */
  readonly exited: Promise<number | null>;
  readonly running: boolean;
  /** What it wrote on stderr (a crash's stack trace lands here). */
  stderr(): string;
  /** Every JSON line it has logged so far. */
  lines(): LogLine[];
  /** Resolves with the first line (already logged or to come) that `match` accepts. */
  waitForLine(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM and the exit code; SIGKILL if it is still there after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<number | null>;
}

/** A service that has logged its "listening" line. */
export interface ServiceProcess extends LaunchedService {
  readonly port: number;
  readonly url: string;
}

/** Spawns the service and waits for its "listening" line. */
export async function startService(name: string, env: Record<string, string>): Promise<ServiceProcess> {
  const launched = launchService(name, env);
  const listening = await Promise.race([
    launched.waitForLine((l) => l.msg === `${name} listening`),
    launched.exited.then((code) => {
      throw new Error(`${name} exited with code ${code} before listening: ${launched.stderr().trim()}`);
    }),
  ]);
  const port = Number(listening.port);
  return Object.assign(launched, { port, url: `http://127.0.0.1:${port}` });
}

/** Spawns the service without waiting for anything. */
export function launchService(name: string, env: Record<string, string>): LaunchedService {
  ensureBuilt();
  const child: ChildProcess = spawn(process.execPath, [`dist/services/${name}/main.js`], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  const waiters = new Set<{ match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }>();
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      line = { msg: text };
    }
    lines.push(line);
    for (const waiter of waiters) {
      if (waiter.match(line)) {
        waiters.delete(waiter);
        waiter.resolve(line);
      }
    }
  });
  let running = true;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running = false;
      resolve(code);
    }),
  );

  const waitForLine = (match: (line: LogLine) => boolean, timeoutMs = START_TIMEOUT_MS) => {
    const seen = lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise<LogLine>((resolve, reject) => {
      const waiter = { match, resolve: (line: LogLine) => (clearTimeout(timer), resolve(line)) };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`${name} did not log the awaited line within ${timeoutMs} ms; stderr: ${stderr.trim()}`));
      }, timeoutMs);
      waiters.add(waiter);
    });
  };

  return {
    name,
    pid: child.pid!,
    exited,
    get running() {
      return running;
    },
    lines: () => [...lines],
    stderr: () => stderr,
    waitForLine,
    signal: (signal) => {
      if (running) child.kill(signal);
    },
    stop: async (timeoutMs = 20_000) => {
      if (!running) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
