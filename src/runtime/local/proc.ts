/**
 * What only the local runtime needs of /proc besides core/processes.ts: a process's
 * children, and the private epmd its RabbitMQ node leaves behind.
 */
import { readFileSync } from 'node:fs';
import { isAlive, isZombie, KILL_WAIT_MS, portHolder, realProc, waitForExit, type ProcReader } from '../../core/processes.js';

/** The direct children of a pid (from /proc/<pid>/task/<pid>/children when the kernel has it). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * True when `pid` is an epmd serving `port`: its command line names epmd and it was
 * told the port, either as `-port <port>` or through ERL_EPMD_PORT=<port> in its
 * environment (how the Erlang VM starts it).
 */
export function isEpmdFor(pid: number, port: number, proc: ProcReader = realProc): boolean {
  if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) return false;
  const raw = proc.read(pid, 'cmdline');
  if (raw === undefined || isZombie(pid, proc)) return false;
  const args = raw.split('\0').filter(Boolean);
  if (!args.some((a) => a.includes('epmd'))) return false;
  const portArg = args.findIndex((a, i) => a === '-port' && args[i + 1] === String(port));
  if (portArg >= 0) return true;
  const environ = proc.read(pid, 'environ');
  return environ !== undefined && environ.split('\0').includes(`ERL_EPMD_PORT=${port}`);
}

/**
 * Stops the epmd listening on 127.0.0.1:`port` (ours, on a private port): SIGTERM,
 * SIGKILL after `graceMs`. Does nothing unless the listener is an epmd for exactly
 * that port. Returns the pid stopped, or undefined.
 */
export async function stopEpmdOn(
  port: number | undefined,
  opts: { graceMs: number },
  deps: { holder?: (port: number) => number | undefined; proc?: ProcReader } = {},
): Promise<number | undefined> {
  if (!port || !Number.isInteger(port)) return undefined;
  const proc = deps.proc ?? realProc;
  const pid = (deps.holder ?? ((p: number) => portHolder(p)?.pid))(port);
  if (pid === undefined || !isEpmdFor(pid, port, proc)) return undefined;
  const still = () => isAlive(pid) && isEpmdFor(pid, port, proc);
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return pid;
  }
  if (!(await waitForExit(still, opts.graceMs))) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await waitForExit(still, KILL_WAIT_MS);
  }
  return pid;
}
