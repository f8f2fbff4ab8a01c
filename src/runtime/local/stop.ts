/**
 * `down` for the local runtime: SIGTERM to our supervisor (verified through /proc,
 * never by name), which stops what it started; whatever is left (a supervisor killed
 * hard) is stopped by its recorded, verified pid. `purge` removes only what ecom made.
 */
import { rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DownResult, ProgressEvent } from '../types.js';
import { fallbackDataRoot, type StatePaths } from './paths.js';
import { pollUntil } from '../../core/poll.js';
import { isOurs, stopOwned, waitGone } from '../../core/processes.js';
import { stopEpmdOn } from './proc.js';
import { readState, recordedProcesses, removeState, type LocalState } from './state.js';

/** The supervisor stops services (12 s grace) and then its dependencies (20 s grace). */
const SUPERVISOR_STOP_TIMEOUT_MS = 45_000;
const LEFTOVER_GRACE_MS = 10_000;
const EPMD_GRACE_MS = 2_000;
const STOP_POLL_MS = 100;

export async function localDown(
  paths: StatePaths,
  opts: { purge: boolean; progress: (event: ProgressEvent) => void },
): Promise<DownResult> {
  const state = readState(paths.stateFile);
  const stopped: string[] = [];
  if (state) {
    const aliveBefore = recordedProcesses(state)
      .filter((p) => isOurs(p.proc))
      .map((p) => p.what.replace(/ \(.*\)$/, ''));
    if (isOurs(state.supervisor)) {
      opts.progress({ kind: 'start', task: 'supervisor', verb: 'stopping (and everything it started)' });
      const parts = recordedProcesses(state).filter((p) => isOurs(p.proc));
      for (const p of parts) opts.progress({ kind: 'start', task: p.what, verb: 'stopping' });
      process.kill(state.supervisor.pid, 'SIGTERM');
      const watching = new AbortController();
      const reported = reportEachStop(parts, opts.progress, watching.signal);
      const gone = await waitGone(state.supervisor, SUPERVISOR_STOP_TIMEOUT_MS);
      watching.abort();
      await reported;
      if (!gone) {
        opts.progress({ kind: 'warn', task: 'supervisor', message: 'did not stop in time; killing it and what it started' });
        await stopOwned(state.supervisor, { signal: 'SIGKILL', graceMs: 2_000 });
      }
      opts.progress({ kind: 'done', task: 'supervisor', outcome: 'stopped', detail: `pid ${state.supervisor.pid}` });
      stopped.push('supervisor');
    }
    await stopLeftovers(state, opts.progress);
    stopped.push(...aliveBefore);
    removeState(paths.stateFile);
  }
  if (opts.purge) purge(paths);
  return { stopped: [...new Set(stopped)], purged: opts.purge };
}

/**
 * Says `stopped` for each part the supervisor stops, as its process goes, until all
 * are gone or the signal aborts (the supervisor exited; stopLeftovers handles the rest).
 */
async function reportEachStop(parts: ReturnType<typeof recordedProcesses>, progress: (event: ProgressEvent) => void, signal: AbortSignal): Promise<void> {
  const left = new Set(parts);
  const check = () => {
    for (const p of left) {
      if (isOurs(p.proc)) continue;
      left.delete(p);
      progress({ kind: 'done', task: p.what, outcome: 'stopped', detail: `pid ${p.proc.pid}` });
    }
    return left.size === 0 ? true : undefined;
  };
  await pollUntil(check, { what: 'the parts to stop', timeoutMs: SUPERVISOR_STOP_TIMEOUT_MS, intervalMs: STOP_POLL_MS, signal }).catch(() => undefined);
  check();
}

/** Stops recorded processes that are still ours: services first, then the rest together. */
export async function stopLeftovers(state: LocalState, progress?: (event: ProgressEvent) => void): Promise<string[]> {
  const alive = recordedProcesses(state).filter((p) => isOurs(p.proc));
  if (alive.length === 0) {
    await stopOwnEpmd(state, progress);
    return [];
  }
  const services = alive.filter((p) => p.what in state.services);
  const others = alive.filter((p) => !(p.what in state.services));
  const stop = async (p: (typeof alive)[number]) => {
    progress?.({ kind: 'start', task: p.what, verb: 'stopping' });
    // SIGINT is PostgreSQL's fast shutdown; SIGTERM would wait for clients.
    await stopOwned(p.proc, { signal: p.what === 'postgres' ? 'SIGINT' : 'SIGTERM', graceMs: LEFTOVER_GRACE_MS });
    progress?.({ kind: 'done', task: p.what, outcome: 'stopped', detail: `pid ${p.proc.pid}` });
  };
  await Promise.all(services.map(stop));
  await Promise.all(others.map(stop));
  await stopOwnEpmd(state, progress);
  return alive.map((p) => p.what);
}

/**
 * Our RabbitMQ node's private epmd, after the node is gone (the VM starts it detached).
 * Only an epmd listening on the recorded port and told that port is stopped.
 */
async function stopOwnEpmd(state: LocalState, progress?: (event: ProgressEvent) => void): Promise<void> {
  if (state.broker.kind !== 'own' || !state.broker.epmdPort) return;
  if (state.broker.vm && isOurs(state.broker.vm)) return; // node still up: leave its epmd
  const pid = await stopEpmdOn(state.broker.epmdPort, { graceMs: EPMD_GRACE_MS });
  if (pid === undefined) return;
  progress?.({ kind: 'start', task: 'rabbitmq (epmd)', verb: 'stopping' });
  progress?.({ kind: 'done', task: 'rabbitmq (epmd)', outcome: 'stopped', detail: `pid ${pid} on port ${state.broker.epmdPort}` });
}

/** Removes what ecom created in the state directory (never the directory's other files). */
export function purge(paths: StatePaths): void {
  const created = ['state.json', 'plan.json', 'secrets.json', 'logs', 'rabbitmq', 'prometheus', 'postgres'];
  for (const name of created) rmSync(join(paths.stateDir, name), { recursive: true, force: true });
  rmSync(fallbackDataRoot(paths.stateDir), { recursive: true, force: true });
  try {
    rmdirSync(paths.stateDir);
  } catch {
    // not empty (someone else's files) or already gone
  }
}
