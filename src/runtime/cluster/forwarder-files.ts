/**
 * The files the cluster runtimes' forwarder and the commands share, in the state
 * directory (docs/architecture.md, "Port-forwards"): `forwarder.json`, written by
 * `startForwarder`, says which process holds the forwards (pid and /proc markers) and
 * what it forwards; `forwards.json`, written by the forwarder as things change, says
 * how each forward is doing. Both are replaced atomically, so a reader never sees
 * half a document.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { OwnedProcess } from '../../core/processes.js';
import type { PortForwardStatus } from '../types.js';

/** One forward: 127.0.0.1:<localPort> to a port of a Service. */
export interface ForwardSpec {
  /** What it is for, as status shows it: `frontend`, `prometheus`, `grafana`, `rabbitmq` … */
  name: string;
  namespace: string;
  service: string;
  /** The Service port, by number or by name. */
  port: number | string;
  localPort: number;
}

/** Each forward's state, as `ecom status` shows it (the contract's type). */
export type ForwardState = PortForwardStatus;
export type ForwardPhase = PortForwardStatus['state'];

/** What the forwarder is told: where the cluster is and what to forward. */
export interface ForwarderPlan {
  kubeconfigPath?: string;
  context?: string;
  forwards: ForwardSpec[];
}

/** forwarder.json: the process (0 until spawned) and its plan. */
export interface ForwarderRecord extends OwnedProcess {
  version: 1;
  startedAt: string;
  plan: ForwarderPlan;
}

/** forwards.json: written by the forwarder process `pid`. */
export interface ForwardStatesFile {
  pid: number;
  updatedAt: string;
  /** True once every forward listens on its local port. */
  listening: boolean;
  /** Why the forwarder gave up (it exits 1 after writing it). */
  error?: { message: string; forward?: string; localPort?: number };
  forwards: ForwardState[];
}

export function forwarderFiles(stateDir: string): { record: string; states: string; console: string; log: string } {
  return {
    record: join(stateDir, 'forwarder.json'),
    states: join(stateDir, 'forwards.json'),
    console: join(stateDir, 'console.json'),
    log: join(stateDir, 'logs', 'forwarder.log'),
  };
}

export function readForwarderRecord(stateDir: string): ForwarderRecord | undefined {
  const record = readJson<ForwarderRecord>(forwarderFiles(stateDir).record);
  return record?.version === 1 && Array.isArray(record.plan?.forwards) ? record : undefined;
}

export function writeForwarderRecord(stateDir: string, record: ForwarderRecord): void {
  writeJsonAtomic(forwarderFiles(stateDir).record, record);
}

export function readStatesFile(stateDir: string): ForwardStatesFile | undefined {
  const states = readJson<ForwardStatesFile>(forwarderFiles(stateDir).states);
  return states && Array.isArray(states.forwards) ? states : undefined;
}

export function writeStatesFile(stateDir: string, states: ForwardStatesFile): void {
  writeJsonAtomic(forwarderFiles(stateDir).states, states);
}

export function removeForwarderFiles(stateDir: string): void {
  const files = forwarderFiles(stateDir);
  rmSync(files.record, { force: true });
  rmSync(files.states, { force: true });
  rmSync(files.console, { force: true });
}

/** console.json: the console's URL, written by the forwarder once the console listens (it may not: then there is none). */
export function readConsoleUrl(stateDir: string): string | undefined {
  return readJson<{ url?: string }>(forwarderFiles(stateDir).console)?.url;
}

export function writeConsoleUrl(stateDir: string, url: string): void {
  writeJsonAtomic(forwarderFiles(stateDir).console, { url });
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    // Missing or damaged: nothing to read (writers rename whole files into place).
    return undefined;
  }
}

function writeJsonAtomic(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(temporary, path);
}
