/**
 * Processes and ports through /proc, for every runtime that starts a detached process
 * (the local supervisor, the cluster runtimes' forwarder): is a pid still the process
 * we started (never kill by name), who holds a port, and stopping a pid with a grace
 * period (docs/architecture.md, "Core helpers").
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { orOnTimeout, pollUntil } from './poll.js';

/** A process ecom started, recorded so that a later command can verify and stop it. */
export interface OwnedProcess {
  pid: number;
  /** Substrings (paths only our process carries) that must all be in its cmdline, or all in its environ. */
  markers: string[];
}

export interface ProcReader {
  /** NUL-separated /proc/<pid>/<file> content, or undefined when unreadable. */
  read(pid: number, file: 'cmdline' | 'environ' | 'comm' | 'stat'): string | undefined;
}

export const realProc: ProcReader = {
  read(pid, file) {
    try {
      return readFileSync(`/proc/${pid}/${file}`, 'latin1');
    } catch {
      return undefined;
    }
  },
};

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A zombie has exited; it only waits for its parent to reap it. */
export function isZombie(pid: number, proc: ProcReader): boolean {
  const stat = proc.read(pid, 'stat');
  if (!stat) return false;
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === 'Z' || state === 'X';
}

/**
 * True when `owned.pid` is alive and still the process we started: its command line
 * (or, for wrapper scripts, its environment) contains every marker path.
 */
export function isOurs(owned: OwnedProcess | undefined, proc: ProcReader = realProc): boolean {
  if (!owned || !Number.isInteger(owned.pid) || owned.pid <= 1 || owned.pid === process.pid) return false;
  const markers = (owned.markers ?? []).filter((m) => m !== '');
  if (markers.length === 0) return false;
  const cmdline = proc.read(owned.pid, 'cmdline');
  if (cmdline === undefined || isZombie(owned.pid, proc)) return false;
  if (markers.every((m) => cmdline.includes(m))) return true;
  const environ = proc.read(owned.pid, 'environ');
  return environ !== undefined && markers.every((m) => environ.includes(m));
}

export function commandLine(pid: number, proc: ProcReader = realProc): string | undefined {
  const raw = proc.read(pid, 'cmdline');
  return raw?.split('\0').filter(Boolean).join(' ');
}

const EXIT_POLL_MS = 50;
/** How long a SIGKILLed process gets to disappear from /proc. */
export const KILL_WAIT_MS = 2_000;

/** True once `alive()` turns false; false when it still holds after `timeoutMs`. */
export function waitForExit(alive: () => boolean, timeoutMs: number): Promise<boolean> {
  const gone = pollUntil(() => (alive() ? undefined : true), { what: 'the process to exit', timeoutMs, intervalMs: EXIT_POLL_MS });
  return orOnTimeout(gone, false);
}

/**
 * Sends `signal` to a process of ours, waits up to `graceMs` for it to go, then
 * SIGKILLs it. Returns false when the pid was not ours (nothing sent).
 */
export async function stopOwned(
  owned: OwnedProcess | undefined,
  opts: { signal?: NodeJS.Signals; graceMs: number },
  proc: ProcReader = realProc,
): Promise<boolean> {
  if (!owned || !isOurs(owned, proc)) return false;
  try {
    process.kill(owned.pid, opts.signal ?? 'SIGTERM');
  } catch {
    return true;
  }
  if (await waitGone(owned, opts.graceMs, proc)) return true;
  try {
    if (isOurs(owned, proc)) process.kill(owned.pid, 'SIGKILL');
  } catch {
    // already gone
  }
  await waitGone(owned, KILL_WAIT_MS, proc);
  return true;
}

export function waitGone(owned: OwnedProcess, timeoutMs: number, proc: ProcReader = realProc): Promise<boolean> {
  return waitForExit(() => isOurs(owned, proc), timeoutMs);
}

/** Resolves true when 127.0.0.1:port can be bound right now. */
export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Socket inodes listening on `port`, from /proc/net/tcp{,6} text. */
export function listeningInodes(procNetTcp: string, port: number): string[] {
  const inodes: string[] = [];
  for (const line of procNetTcp.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 10) continue;
    const local = cols[1]!;
    const state = cols[3];
    const localPort = parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
    if (state === '0A' && localPort === port && cols[9] !== '0') inodes.push(cols[9]!);
  }
  return inodes;
}

/** The process listening on a TCP port, when /proc tells (it may belong to another user). */
export function portHolder(port: number): { pid: number; command: string } | undefined {
  const tables = ['/proc/net/tcp', '/proc/net/tcp6'].map((f) => {
    try {
      return readFileSync(f, 'utf8');
    } catch {
      return '';
    }
  });
  const inodes = new Set(tables.flatMap((t) => listeningInodes(t, port)));
  if (inodes.size === 0) return undefined;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m && inodes.has(m[1]!)) {
        const comm = realProc.read(Number(pid), 'comm')?.trim() ?? 'unknown';
        return { pid: Number(pid), command: comm };
      }
    }
  }
  return undefined;
}
