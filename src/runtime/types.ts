/**
 * The Runtime contract: the one interface every target (local, kind, context)
 * implements, method by method in docs/architecture.md ("The Runtime contract").
 * Commands talk only to this, registry.ts and detect.ts; targets differ in how, never
 * in what the user sees. Nothing here is specific to one target.
 */

import type { Health } from '../core/health-probe.js';
import type { LogLine } from '../core/log-merge.js';
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
}

export interface SystemStatus {
  runtime: RuntimeName;
  /** False when nothing is up; then the lists are empty. */
  running: boolean;
  services: ServiceStatus[];
  dependencies: DependencyStatus[];
  /** kind, context: the port-forwards that put the system on this machine. */
  forwards?: PortForwardStatus[];
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
  | { kind: 'waiting'; task: string; reason: string }
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
