/**
 * The Runtime contract: the one interface every target (local, kind, context)
 * implements, method by method in docs/architecture.md ("The Runtime contract").
 * Commands talk only to this, registry.ts and detect.ts; targets differ in how, never
 * in what the user sees. Nothing here is specific to one target.
 */

import type { Health } from '../core/health-probe.js';
import type { LogLevel } from '../core/log-level.js';
import type { LogLine, LogSource } from '../core/log-merge.js';
import type { Endpoints, ServiceName } from '../core/system.js';

export type RuntimeName = 'kind' | 'context' | 'local';

/**
 * What registry.ts constructs a runtime with. Shared settings first; a setting only
 * one runtime understands is named for it and ignored by the others.
 */
export interface RuntimeSettings {
  /** The project directory. */
  cwd: string;
  /** The state directory (core/state-dir.ts): everything the runtime keeps lives below it. */
  stateDir: string;
  env: NodeJS.ProcessEnv;
  /** local: the broker to use instead of starting one (--amqp-url; else AMQP_URL). */
  amqpUrl?: string;
  /** kind, context: the service mesh `up` installs (--mesh; default sidecar). */
  clusterMesh?: MeshMode;
  /** context: the kubeconfig context to use (--context; default the current one). */
  contextName?: string;
  /** context: the registry images are pushed to and pulled from (--registry; required). */
  contextRegistry?: string;
  /** context: change a cluster that is not local without asking (--yes). */
  contextAssumeYes?: boolean;
}

/** How Istio meshes the services (docs/architecture.md, "kind"). */
export type MeshMode = 'sidecar' | 'ambient' | 'none';
export const MESH_MODES: readonly MeshMode[] = ['sidecar', 'ambient', 'none'];

/** Where a service is, in the same words whatever runs it. */
export type ServiceState = 'running' | 'starting' | 'restarting' | 'stopped' | 'crashed';

/** local: the one process the supervisor keeps for the service. */
export interface ProcessDetail {
  kind: 'process';
  /** While it is alive. */
  pid?: number;
  uptimeSeconds?: number;
}

/** One pod of a service's Deployment. */
export interface PodDetail {
  name: string;
  /** Pending, Running, Succeeded, Failed, Unknown. */
  phase: string;
  ready: boolean;
  restarts: number;
  /** Why it is not ready, when Kubernetes says (ImagePullBackOff, CrashLoopBackOff …). */
  reason?: string;
}

/** A service's HorizontalPodAutoscaler (cluster). */
export interface AutoscalerDetail {
  minReplicas: number;
  maxReplicas: number;
  /** Replicas now, and the replicas the autoscaler wants (its target). */
  currentReplicas: number;
  desiredReplicas: number;
  /** Current/target per metric as kubectl shows them: `cpu: 82%/70%` (`<unknown>` before metrics arrive). */
  metrics: string;
}

/** kind, context: the service's pods, and its autoscaler when it has one. */
export interface PodsDetail {
  kind: 'pods';
  pods: PodDetail[];
  autoscaler?: AutoscalerDetail;
}

export type ServiceDetail = ProcessDetail | PodsDetail;

export interface ServiceStatus {
  name: ServiceName;
  state: ServiceState;
  /** Instances ready to serve: a live process whose /health answers 200 (local), Ready pods (cluster). */
  ready: number;
  /** Instances asked for: 1 (local), the Deployment's replicas (cluster). */
  desired: number;
  /** Restarts since `up`: by the supervisor (local), container restarts over all pods (cluster). */
  restarts: number;
  /** GET /health through `url`: ok, degraded, unavailable, or unreachable. */
  health: Health;
  /** Where the service answers on this machine. */
  url: string;
  /** What only this runtime knows: the process (local) or the pods (cluster). */
  detail: ServiceDetail;
  /** Request rate, p95 and 5xx ratio, added by src/observe/ for every runtime alike; absent when it did not answer. */
  metrics?: ServiceMetrics;
}

/** A service's RED numbers (docs/architecture.md, "Live status"). */
export interface ServiceMetrics {
  /** prometheus: its recorded series; scrape: two /metrics scrapes of the service (its own /metrics requests not counted). */
  source: 'prometheus' | 'scrape';
  /** The window the numbers cover: the recorded series' window, or the time between the two scrapes. */
  windowSeconds: number;
  requestsPerSecond?: number;
  /** Undefined while the window holds no request. */
  p95Seconds?: number;
  /** Share of requests answered 5xx; undefined while the window holds no request. */
  errorRatio?: number;
}

/** An alert Prometheus reports as firing (GET /api/v1/alerts). */
export interface FiringAlert {
  name: string;
  severity?: string;
  service?: string;
  /** The alert's summary annotation, as Prometheus expanded it. */
  summary?: string;
  /** When its condition first held (RFC 3339). */
  activeAt?: string;
  labels: Record<string, string>;
}

/** starting: it exists but is not ready yet (a cluster workload below its desired replicas). */
export type DependencyState = 'running' | 'starting' | 'missing' | 'stopped' | 'external';

export interface DependencyStatus {
  /** postgres, broker and prometheus locally; a cluster runtime names its own (elasticsearch, grafana …). */
  name: string;
  state: DependencyState;
  /** One line for a person: where it runs, or why it does not. */
  detail: string;
  url?: string;
  /** local: how often the supervisor restarted it since `up`, and when last (ISO time). */
  restarts?: number;
  lastRestart?: string;
}

/** local: the detached supervisor that keeps the processes up. */
export interface SupervisorStatus {
  /** gone: killed or crashed while parts it started still run, unsupervised. */
  state: 'running' | 'gone';
  pid: number;
  /** The parts still running without it (gone only). */
  orphans: string[];
  /** One line for a person. */
  detail: string;
  /** What to do about it (gone only). */
  hint?: string;
}

export interface SystemStatus {
  runtime: RuntimeName;
  /** False when nothing is up; then the lists are empty. */
  running: boolean;
  services: ServiceStatus[];
  dependencies: DependencyStatus[];
  /** kind, context: the port-forwards that put the system on this machine. */
  forwards?: PortForwardStatus[];
  /** local: whether the supervisor runs, and what runs without it when it does not. */
  supervisor?: SupervisorStatus;
  endpoints?: Endpoints;
  /** Alerts firing in Prometheus; absent when no Prometheus answers (added by src/observe/). */
  alerts?: FiringAlert[];
}

/** One port-forward of a cluster runtime: 127.0.0.1:<localPort> to a Service (docs/architecture.md, "Port-forwards"). */
export interface PortForwardStatus {
  /** What it is for: a service name, `prometheus`, `grafana`, `rabbitmq`. */
  name: string;
  localPort: number;
  /** connecting: finding a Ready pod or waiting for its istio-proxy; backoff: waiting before the next try. */
  state: 'connecting' | 'ready' | 'backoff' | 'stopped';
  /** The pod connections go to (while ready) or last went to. */
  pod?: string;
  /** How often it became ready again after losing its pod or its stream. */
  reconnects: number;
  lastError?: string;
  /** What a connecting forward waits for: `istio-proxy in pod frontend-…`. */
  waitingFor?: string;
}

/** A progress event for the task list (TTY) or plain lines (CI). */
export type ProgressEvent =
  /** `verb` says what starts ("starting" by default, "stopping" for down). */
  | { kind: 'start'; task: string; verb?: string }
  /**
   * What a task still waits for. `overall`: a summary of every task's own reason, which
   * plain lines print every few seconds and a live board (whose rows say it) leaves out.
   */
  | { kind: 'waiting'; task: string; reason: string; overall?: boolean }
  /** `outcome` replaces "done" ("stopped" for down). */
  | { kind: 'done'; task: string; detail?: string; outcome?: string }
  | { kind: 'skip'; task: string; reason: string }
  | { kind: 'warn'; task: string; message: string };

export interface UpOptions {
  timeoutMs: number;
  /**
   * Added to every port the system takes on this machine (services 5001-5004, and the
   * runtime's own: Prometheus, forwards); each runtime resolves its ports from it.
   * Undefined: a system already up keeps its ports, otherwise 0.
   */
  portOffset?: number;
  /** local: LOG_LEVEL of the services (`--log-level`); undefined: a running system keeps its own, otherwise LOG_LEVEL or info. */
  logLevel?: string;
  progress: (event: ProgressEvent) => void;
}

export interface UpResult {
  /** True when everything was already healthy and nothing was started. */
  alreadyUp: boolean;
  endpoints: Endpoints;
  warnings: string[];
  /** What the user should know beyond the endpoints (how to reach the gateway), printed as is. */
  notes?: string[];
}

export interface LogOptions {
  /** Services, and dependencies (postgres, broker, prometheus, supervisor) where the runtime has their logs. */
  services: LogSource[];
  follow: boolean;
  /** Only lines at or after this time. */
  since?: Date;
  /** Only the last N lines per service before following. */
  tail?: number;
  /** Only lines at this level or above (core/log-level.ts maps each writer's format); `tail` counts kept lines. */
  level?: LogLevel;
  signal?: AbortSignal;
}

/** One line of a service's log (defined with the helpers that merge them). */
export type { LogLine } from '../core/log-merge.js';

export interface DownOptions {
  /** Also delete the data (database, broker data, logs; a cluster's volumes). */
  purge: boolean;
  progress: (event: ProgressEvent) => void;
}

export interface DownResult {
  /** What was stopped, in words ("supervisor", "catalog" …); empty when nothing ran. */
  stopped: string[];
  purged: boolean;
}

export interface Runtime {
  readonly name: RuntimeName;
  /** Brings the whole system up and waits until every service is healthy. Idempotent: a healthy system is left as is (`alreadyUp`). */
  up(options: UpOptions): Promise<UpResult>;
  /** What is running, for `ecom status`; never throws when nothing is up (`running: false`). */
  status(): Promise<SystemStatus>;
  /** Log lines of the given services, merged in time order; follows until the signal aborts when asked. */
  logs(options: LogOptions): AsyncIterable<LogLine>;
  /** Where the services answer on this machine; undefined when nothing is up. */
  endpoints(): Promise<Endpoints | undefined>;
  /** Stops exactly what `up` started; with purge also deletes data. Safe to repeat. */
  down(options: DownOptions): Promise<DownResult>;
  /** kind, context: what `up` would do, step by step, without doing anything (`ecom up --dry-run`). */
  plan?(options: PlanOptions): Promise<UpPlan>;
  /** Rebuilds and restarts services in place (`ecom restart`, `ecom up --watch`; docs/architecture.md, "The loop"). */
  reloader?(): Promise<Reloader>;
  /** How to reach each part from a shell or a tool, credentials included (`ecom env`); undefined when nothing is up. */
  access?(): Promise<SystemAccess | undefined>;
}

/** Rebuild and restart for the loop; one per watching process, closed when it ends. */
export interface Reloader {
  /** Files and folders whose change can change what a service runs (watched by `up --watch`). */
  readonly watchPaths: string[];
  /**
   * Builds the current sources. `changedFiles` (absolute paths) are what the watcher
   * saw; without them (`ecom restart`, the first build) a service counts as changed
   * when its sources are newer than what runs. A failed build is a value: what ran keeps running.
   */
  build(changedFiles?: readonly string[]): Promise<BuildOutcome>;
  /** Restarts each service on its last build and waits until its /health answers 200. */
  restart(services: readonly ServiceName[], options: RestartOptions): Promise<RestartOutcome[]>;
  close(): Promise<void>;
}

export type BuildOutcome =
  /** `changed`: the services whose build differs from what they run. */
  | { ok: true; changed: ServiceName[]; elapsedMs: number }
  /** `error`: the compiler's messages, as a person reads them. */
  | { ok: false; error: string; elapsedMs: number };

export interface RestartOptions {
  /** How long each service may take to answer /health after its restart. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Hears what a slow restart still waits for. */
  progress?: (event: ProgressEvent) => void;
}

export interface RestartOutcome {
  service: ServiceName;
  ok: boolean;
  /** From asking for the restart to the new instance running (process started, rollout done). */
  restartMs: number;
  /** From asking for the restart to /health answering 200; absent when it did not. */
  healthyMs?: number;
  /** What runs now: `pid 4242`, `image localhost:5050/ecom/order:ab12…`. */
  detail?: string;
  /** Why it is not healthy, with the service's last log lines when there are. */
  error?: string;
}

/** A web UI or API and the login that works there. */
export interface Login {
  url: string;
  user: string;
  password: string;
}

/** What `ecom env` prints (docs/architecture.md, "The Runtime contract"). */
export interface SystemAccess {
  runtime: RuntimeName;
  endpoints: Endpoints;
  /** The services' own connection URLs; absent when not reachable from this machine as is (see `notes`). */
  databaseUrl?: string;
  amqpUrl?: string;
  /** The RabbitMQ management UI and API. */
  brokerManagement?: Login;
  grafana?: Login;
  /** What is not reachable as is and how to reach it (a port-forward, where a secret lives). */
  notes: string[];
}

export interface PlanOptions {
  portOffset?: number;
}

/** One thing a planned step does, in the order it does it. */
export type PlannedAction =
  /** An external program with its exact arguments (and what goes to its stdin). */
  | { kind: 'command'; argv: string[]; input?: string }
  /** Objects applied by server-side apply, in order: `Deployment ecommerce/catalog`. */
  | { kind: 'apply'; objects: string[] }
  /** Work done through an API rather than a command (rollout waits, port-forwards), in words. */
  | { kind: 'task'; lines: string[] };

export interface PlannedStep {
  id: string;
  title: string;
  /** Steps that must finish first; steps with nothing between them run concurrently. */
  needs: string[];
  /** How `up` finds the step already done, so that it skips it. */
  check?: { describe: string; argv?: string[] };
  actions: PlannedAction[];
}

/** `ecom up --dry-run`: the steps `up` runs, in order, from the same list `up` executes. */
export interface UpPlan {
  runtime: RuntimeName;
  steps: PlannedStep[];
  /** What the plan cannot know offline, or depends on. */
  notes: string[];
}
