/**
 * The state file: what the supervisor started (pids, ports, URLs, restarts), written
 * atomically (temp file + rename) so a reader never sees half a document.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ServiceName } from '../../core/system.js';
import type { OwnedProcess } from '../../core/processes.js';
import type { ServiceState } from '../types.js';

export const STATE_VERSION = 1;

/** A process we started, with what its /proc cmdline (or environ) must contain to be ours. */
export type { OwnedProcess };

export type DependencyPhase = 'starting' | 'running' | 'failed' | 'stopped';

/** How often the supervisor restarted a dependency that died, and the last time (local status shows both). */
export interface RestartRecord {
  restarts?: number;
  lastRestart?: { at: string; reason: string };
}

export interface PostgresState extends RestartRecord {
  phase: DependencyPhase;
  port: number;
  dataDir: string;
  process?: OwnedProcess;
  startedAt?: string;
  error?: string;
}

/**
 * own: a RabbitMQ node of our own; given: --amqp-url/AMQP_URL; local: a broker that
 * already answered on 127.0.0.1:5672; none: no broker at all.
 */
export type BrokerKind = 'own' | 'given' | 'local' | 'none';

export interface BrokerState extends RestartRecord {
  kind: BrokerKind;
  /** starting (own node booting), running (answers), unreachable (given but silent), missing, failed, stopped. */
  phase: 'starting' | 'running' | 'unreachable' | 'missing' | 'failed' | 'stopped';
  /** AMQP URL with the password replaced by ***. */
  url?: string;
  host?: string;
  port?: number;
  nodeName?: string;
  managementUrl?: string;
  /** The rabbitmq-server wrapper script and the Erlang VM under it. */
  process?: OwnedProcess;
  vm?: OwnedProcess;
  /** Port of the node's own epmd (absent in state files written before it had one). */
  epmdPort?: number;
  /** 15672 + port offset: where the management UI should be, to tell when it had to move. */
  managementPlannedPort?: number;
  startedAt?: string;
  detail: string;
  error?: string;
}

export interface PrometheusState extends RestartRecord {
  phase: 'starting' | 'running' | 'missing' | 'failed' | 'stopped';
  port?: number;
  /** The port it was meant to have (9090 + port offset); differs from `port` when that one was taken. */
  plannedPort?: number;
  url?: string;
  process?: OwnedProcess;
  startedAt?: string;
  error?: string;
}

/** The console the supervisor serves (docs/architecture.md, "Console"). */
export interface ConsoleState {
  /** 5005 + port offset; `port` differs when that one was taken. */
  plannedPort: number;
  port?: number;
  url?: string;
  /** Why it does not run (the system runs without it). */
  error?: string;
}

export interface ServiceRecord {
  state: ServiceState;
  port: number;
  url: string;
  restarts: number;
  process?: OwnedProcess;
  startedAt?: string;
  lastExit?: { code: number | null; signal: string | null; at: string; pid?: number };
}

export interface LocalState {
  version: typeof STATE_VERSION;
  runtime: 'local';
  stateDir: string;
  /** starting → running; stopping → stopped on SIGTERM; failed when a dependency could not start. */
  phase: 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';
  error?: string;
  portOffset: number;
  supervisor: OwnedProcess & { startedAt: string };
  postgres: PostgresState;
  broker: BrokerState;
  prometheus: PrometheusState;
  /** Absent in state files written before the console existed. */
  console?: ConsoleState;
  services: Record<ServiceName, ServiceRecord>;
  updatedAt: string;
}

/** What `up` asks the supervisor to start (plan.json, 0600: a given AMQP URL may hold a password). */
export interface Plan {
  portOffset: number;
  ports: Record<ServiceName, number>;
  amqpUrl?: string;
  /** LOG_LEVEL of the services (`up --log-level`, else LOG_LEVEL, else info); kept across restarts. */
  logLevel?: string;
  createdAt: string;
}

export function readPlan(file: string): Plan {
  return JSON.parse(readFileSync(file, 'utf8')) as Plan;
}

/** Reads the state file; undefined when it is missing or unreadable (a crash mid-write cannot happen). */
export function readState(file: string): LocalState | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LocalState>;
    return parsed.version === STATE_VERSION && parsed.runtime === 'local' ? (parsed as LocalState) : undefined;
  } catch {
    return undefined;
  }
}

/** Writes `data` as JSON to `file` atomically, readable only by its owner. */
export function writeJsonAtomic(file: string, data: unknown, mode = 0o600): void {
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(data, null, 2)}\n`, { mode });
  renameSync(temp, file);
}

export function writeState(file: string, state: LocalState): void {
  writeJsonAtomic(file, { ...state, updatedAt: new Date().toISOString() });
}

export function removeState(file: string): void {
  rmSync(file, { force: true });
}

/** Every process a state records, for `down` when the supervisor is gone. Services first. */
export function recordedProcesses(state: LocalState): Array<{ what: string; proc: OwnedProcess }> {
  const list: Array<{ what: string; proc: OwnedProcess }> = [];
  for (const [name, record] of Object.entries(state.services)) {
    if (record.process) list.push({ what: name, proc: record.process });
  }
  if (state.prometheus.process) list.push({ what: 'prometheus', proc: state.prometheus.process });
  if (state.broker.process) list.push({ what: 'rabbitmq', proc: state.broker.process });
  if (state.broker.vm) list.push({ what: 'rabbitmq (erlang vm)', proc: state.broker.vm });
  if (state.postgres.process) list.push({ what: 'postgres', proc: state.postgres.process });
  return list;
}

/** `amqp://user:secret@host` → `amqp://user:***@host`. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
