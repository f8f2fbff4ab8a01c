/**
 * The detached supervisor of the cluster runtimes (docs/architecture.md,
 * "Port-forwards"): one process per state directory that holds every port-forward
 * for as long as the system is up, across pod replacements and API server hiccups.
 * The commands start it, ask how its forwards are doing, and stop it by its pid,
 * verified through /proc (never by name). Loading this file loads no Kubernetes
 * client: only the forwarder process does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { EcomError, PrerequisiteError } from '../../core/errors.js';
import { pollUntil } from '../../core/poll.js';
import { isAlive, isOurs, isZombie, KILL_WAIT_MS, portHolder, portIsFree, realProc, stopOwned, waitForExit } from '../../core/processes.js';
import { packageRoot } from '../../services/common/paths.js';
import {
  forwarderFiles,
  readForwarderRecord,
  readStatesFile,
  removeForwarderFiles,
  writeForwarderRecord,
  type ForwarderPlan,
  type ForwardSpec,
  type ForwardState,
  type ForwardStatesFile,
} from './forwarder-files.js';

export type { ForwardPhase, ForwardSpec, ForwardState } from './forwarder-files.js';

export interface ForwarderSettings extends ForwarderPlan {
  stateDir: string;
}

/** Every forward listens within this (it binds its port first and connects afterwards). */
export const FORWARDER_START_TIMEOUT_MS = 15_000;
/** The forwarder closes its listeners and streams at once; this is ample. */
const FORWARDER_STOP_GRACE_MS = 10_000;
const START_POLL_MS = 50;
const LOG_LINES_ON_FAILURE = 5;

/** The built entry the forwarder runs as (tsup entry `runtime/cluster/forwarder`). */
export function forwarderScript(root: string = packageRoot()): string {
  return join(root, 'dist', 'runtime', 'cluster', 'forwarder.js');
}

/**
 * Starts the forwarder for `stateDir` and resolves once every forward listens on
 * 127.0.0.1:<localPort>. One already running with the same plan is kept; one with
 * another plan is stopped first. A local port something else holds is a one-line
 * error naming the port and its holder, before anything starts.
 */
export async function startForwarder(settings: ForwarderSettings): Promise<{ pid: number }> {
  const stateDir = resolve(settings.stateDir);
  const plan: ForwarderPlan = { kubeconfigPath: settings.kubeconfigPath, context: settings.context, forwards: settings.forwards };
  const running = readForwarderRecord(stateDir);
  if (running && isOurs(running)) {
    if (JSON.stringify(running.plan) === JSON.stringify(plan)) {
      await waitUntilListening(stateDir, running.pid, () => undefined);
      return { pid: running.pid };
    }
    await stopForwarder(stateDir);
  }
  removeForwarderFiles(stateDir);
  await assertLocalPortsFree(plan.forwards);
  const script = forwarderScript();
  if (!existsSync(script)) throw new PrerequisiteError(`ecom is not built: ${script} is missing`, `run \`npm run build\` in ${packageRoot()}`);
  const record = { version: 1 as const, pid: 0, markers: [script, stateDir], startedAt: new Date().toISOString(), plan };
  // The plan is on disk before the process starts, which reads it first.
  writeForwarderRecord(stateDir, record);
  const child = spawnForwarder(script, stateDir);
  writeForwarderRecord(stateDir, { ...record, pid: child.pid! });
  let exit: string | undefined;
  child.once('exit', (code, signal) => (exit = signal ?? `code ${code}`));
  try {
    await waitUntilListening(stateDir, child.pid!, () => exit);
  } catch (err) {
    await stopForwarder(stateDir);
    throw err;
  } finally {
    child.removeAllListeners('exit');
    child.unref();
  }
  return { pid: child.pid! };
}

/** Stops the forwarder of `stateDir` by its verified pid; false when none of ours ran. */
export async function stopForwarder(stateDir: string): Promise<boolean> {
  const record = readForwarderRecord(resolve(stateDir));
  const stopped = record ? await stopOwned(record, { signal: 'SIGTERM', graceMs: FORWARDER_STOP_GRACE_MS }) : false;
  // An exiting process drops its command line before its files: wait until it has exited for good.
  if (stopped && record) await waitForExit(() => isAlive(record.pid) && !isZombie(record.pid, realProc), KILL_WAIT_MS);
  removeForwarderFiles(resolve(stateDir));
  return stopped;
}

/** The forwarder's pid while it runs (verified through /proc). */
export function forwarderPid(stateDir: string): number | undefined {
  const record = readForwarderRecord(resolve(stateDir));
  return record && isOurs(record) ? record.pid : undefined;
}

/**
 * Each forward's state as the forwarder last wrote it; all `stopped` when the
 * forwarder is no longer running (a state file outlives a killed process).
 */
export function readForwardStates(stateDir: string): ForwardState[] {
  const states = readStatesFile(resolve(stateDir));
  if (!states) return [];
  const pid = forwarderPid(stateDir);
  if (pid !== undefined && pid === states.pid) return states.forwards;
  return states.forwards.map((f) => ({ ...f, state: 'stopped', lastError: f.state === 'stopped' ? f.lastError : 'the forwarder is not running' }));
}

/** `port 5004 (frontend forward) is taken by pid 4242 (python3)` */
export function portTakenError(spec: Pick<ForwardSpec, 'name' | 'localPort'>, holder: { pid: number; command: string } | undefined): EcomError {
  const by = holder ? ` by pid ${holder.pid} (${holder.command})` : '';
  return new EcomError(
    `port ${spec.localPort} (${spec.name} forward) is taken${by}`,
    'stop what listens there, or run `ecom up` with another --port-offset',
  );
}

async function assertLocalPortsFree(forwards: ForwardSpec[]): Promise<void> {
  const free = await Promise.all(forwards.map((f) => portIsFree(f.localPort)));
  const taken = forwards.find((_, i) => !free[i]);
  if (taken) throw portTakenError(taken, portHolder(taken.localPort));
}

function spawnForwarder(script: string, stateDir: string): ChildProcess {
  const { log } = forwarderFiles(stateDir);
  mkdirSync(dirname(log), { recursive: true });
  const out = openSync(log, 'a');
  try {
    return spawn(process.execPath, [script, '--state-dir', stateDir], { detached: true, stdio: ['ignore', out, out], cwd: stateDir, env: process.env });
  } finally {
    closeSync(out);
  }
}

/** Until forwards.json of process `pid` says every forward listens; its error, its exit or a timeout end the wait. */
async function waitUntilListening(stateDir: string, pid: number, exited: () => string | undefined): Promise<void> {
  await pollUntil(
    (attempt) => {
      const states = readStatesFile(stateDir);
      const own = states?.pid === pid ? states : undefined;
      if (own?.error) throw forwarderFailed(stateDir, own);
      if (own?.listening) return true;
      const exit = exited();
      if (exit) throw forwarderFailed(stateDir, own, exit);
      attempt.waiting(own ? 'its forwards to listen' : 'the forwarder to start');
      return undefined;
    },
    { what: 'the port-forwards to listen', timeoutMs: FORWARDER_START_TIMEOUT_MS, intervalMs: START_POLL_MS, hint: `see ${forwarderFiles(stateDir).log}` },
  );
}

function forwarderFailed(stateDir: string, states: ForwardStatesFile | undefined, exit?: string): EcomError {
  const error = states?.error;
  if (error?.localPort !== undefined) {
    const holder = portHolder(error.localPort);
    if (holder) return portTakenError({ name: error.forward ?? 'a', localPort: error.localPort }, holder);
  }
  const { log } = forwarderFiles(stateDir);
  const why = error?.message ?? `it exited (${exit}); last lines of ${log}:\n${lastLines(log)}`;
  return new EcomError(`the port-forwards did not start: ${why}`, `see ${log}`);
}

function lastLines(file: string): string {
  try {
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
    return lines.slice(-LOG_LINES_ON_FAILURE).map((l) => `    ${l}`).join('\n');
  } catch {
    return '    (no log)';
  }
}
