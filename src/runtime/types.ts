/**
 * The one interface every target implements (DESIGN section 2). Commands talk only to
 * this; targets differ in how, never in what the user sees.
 */

import type { Health } from '../core/health-probe.js';
import type { LogLine } from '../core/log-merge.js';
import type { Endpoints, ServiceName } from '../core/system.js';

export type RuntimeName = 'local';

export type ServiceState = 'running' | 'starting' | 'restarting' | 'stopped' | 'crashed';

export interface ServiceStatus {
  name: ServiceName;
  state: ServiceState;
  pid?: number;
  port: number;
  url: string;
  uptimeSeconds?: number;
  restarts: number;
  /** From GET /health: ok, degraded, unavailable, or unreachable. */
  health: Health;
}

export interface DependencyStatus {
  name: 'postgres' | 'broker' | 'prometheus';
  state: 'running' | 'missing' | 'stopped' | 'external';
  detail: string;
  url?: string;
  pid?: number;
}

export interface SystemStatus {
  runtime: RuntimeName;
  /** False when nothing is up; then the lists are empty. */
  running: boolean;
  services: ServiceStatus[];
  dependencies: DependencyStatus[];
  endpoints?: Endpoints;
}

/** A progress event for the task list (TTY) or plain lines (CI). */
export type ProgressEvent =
  /** `verb` says what starts ("starting" by default, "stopping" for down). */
  | { kind: 'start'; task: string; verb?: string }
  | { kind: 'waiting'; task: string; reason: string }
  /** `outcome` replaces "done" ("stopped" for down). */
  | { kind: 'done'; task: string; detail?: string; outcome?: string }
  | { kind: 'skip'; task: string; reason: string }
  | { kind: 'warn'; task: string; message: string };

export interface UpOptions {
  cwd: string;
  timeoutMs: number;
  ports: Record<ServiceName, number>;
  amqpUrl?: string;
  progress: (event: ProgressEvent) => void;
}

export interface UpResult {
  /** True when everything was already healthy and nothing was started. */
  alreadyUp: boolean;
  endpoints: Endpoints;
  warnings: string[];
}

export interface LogOptions {
  services: ServiceName[];
  follow: boolean;
  /** Only lines at or after this time. */
  since?: Date;
  /** Only the last N lines per service before following. */
  tail?: number;
  signal?: AbortSignal;
}

/** One line of a service's log (defined with the helpers that merge them). */
export type { LogLine } from '../core/log-merge.js';

export interface DownResult {
  stopped: string[];
  purged: boolean;
}

export interface Runtime {
  readonly name: RuntimeName;
  /** Brings the whole system up and waits until every service is healthy. Idempotent. */
  up(options: UpOptions): Promise<UpResult>;
  /** What is running, for `ecom status`; never throws when nothing is up. */
  status(): Promise<SystemStatus>;
  /** Log lines of the given services, merged in time order; follows when asked. */
  logs(options: LogOptions): AsyncIterable<LogLine>;
  /** Where the services answer; undefined when nothing is up. */
  endpoints(): Promise<Endpoints | undefined>;
  /** Stops exactly what `up` started; with purge also deletes data. Safe to repeat. */
  down(options: { purge: boolean; progress: (event: ProgressEvent) => void }): Promise<DownResult>;
}
