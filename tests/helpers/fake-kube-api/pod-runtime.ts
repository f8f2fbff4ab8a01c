/**
 * What runs behind one pod of the fake cluster: each container's condition (ready,
 * crash-looping, pulling...), its log (one instance per container run, so `previous`
 * and restarts work), and where connections to the pod's ports go. A PodBackend
 * drives it through PodHandle: the manual backend from scenarios the test sets; a
 * backend running real containers would set ports to published container ports and
 * feed their output into appendLog - the API server side does not change.
 */

/** Where a connection to a pod port is carried: a real TCP listener. */
export interface PortTarget {
  host: string;
  port: number;
}

export type ContainerCondition =
  | { state: 'ready' }
  /** Running, not ready yet, no probe failure reported. */
  | { state: 'starting' }
  /** Running, readiness probe failing with this message (an Unhealthy event). */
  | { state: 'unhealthy'; message: string }
  | { state: 'image-pull'; message?: string }
  | { state: 'crash-loop'; exitCode?: number; restarts?: number }
  | { state: 'completed' }
  | { state: 'failed'; exitCode: number };

/** How a pod behaves, set by a test per workload (or for one pod). */
export interface PodScenario {
  /** The pod cannot be scheduled: the FailedScheduling message. */
  unschedulable?: string;
  /** Conditions by container name. */
  containers?: Record<string, ContainerCondition>;
  /** For containers not named (default: ready; completed for a Job's pods). */
  default?: ContainerCondition;
  /** Injects an istio-proxy sidecar, as the mesh's webhook would, in this condition. */
  istioProxy?: ContainerCondition;
  /** Log lines each container writes when it starts, by container name ('*': every container). */
  logs?: Record<string, string[]>;
  /** Where connections to each pod port go. */
  ports?: Record<number, PortTarget>;
}

export interface LogEntry {
  /** RFC 3339 with nanoseconds, as the kubelet stamps lines. */
  time: string;
  text: string;
}

let lineSequence = 0;

/** Distinct, increasing nanosecond stamps, so merged logs have a strict order. */
function stampNow(): string {
  const iso = new Date().toISOString();
  lineSequence = (lineSequence + 1) % 1_000_000;
  return `${iso.slice(0, 23)}${String(lineSequence).padStart(6, '0')}Z`;
}

/** One run of a container: its lines, and whether it has ended. */
export class LogInstance {
  readonly entries: LogEntry[] = [];
  ended = false;
  private readonly listeners = new Set<(entry: LogEntry | 'end') => void>();

  append(lines: string[]): void {
    if (this.ended) return;
    for (const text of lines) {
      const entry = { time: stampNow(), text };
      this.entries.push(entry);
      for (const listener of [...this.listeners]) listener(entry);
    }
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const listener of [...this.listeners]) listener('end');
    this.listeners.clear();
  }

  subscribe(listener: (entry: LogEntry | 'end') => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** What a PodBackend (and a test) may do to a pod. */
export interface PodHandle {
  readonly namespace: string;
  readonly name: string;
  /** `Deployment/catalog`, when a workload owns the pod. */
  readonly workload?: string;
  readonly containerNames: string[];
  setScenario(scenario: PodScenario): void;
  setContainer(container: string, condition: ContainerCondition, initialLines?: string[]): void;
  /** The container crashed and started again: its log starts a new run with these lines. */
  restartContainer(container: string, lines?: string[]): void;
  appendLog(container: string, lines: string[]): void;
  setPort(port: number, target: PortTarget | undefined): void;
  /** The pod's address (a backend whose pods have real ones); status shows it. */
  podIP?: string;
  /** The address changed (a Docker container restarted on another one): status shows the new. */
  setPodIP(ip: string): void;
}

const STARTED_STATES = new Set(['ready', 'starting', 'unhealthy', 'crash-loop', 'completed', 'failed']);
const DEFAULT_CRASH_RESTARTS = 3;

export class PodRuntime implements PodHandle {
  readonly conditions = new Map<string, ContainerCondition>();
  readonly restarts = new Map<string, number>();
  readonly logs = new Map<string, LogInstance[]>();
  readonly ports = new Map<number, PortTarget>();
  unschedulable: string | undefined;
  podIP: string | undefined;
  stopped = false;
  /** Open port-forward streams, closed when the pod goes. */
  readonly connections = new Set<{ close(): void }>();

  constructor(
    readonly namespace: string,
    readonly name: string,
    readonly containerNames: string[],
    readonly workload: string | undefined,
    private readonly changed: () => void,
  ) {}

  setScenario(scenario: PodScenario): void {
    this.unschedulable = scenario.unschedulable;
    for (const container of this.containerNames) {
      const named = scenario.containers?.[container] ?? (container === 'istio-proxy' ? scenario.istioProxy : undefined);
      const lines = scenario.logs?.[container] ?? scenario.logs?.['*'];
      if (!this.unschedulable) this.applyCondition(container, named ?? scenario.default ?? { state: 'ready' }, lines);
    }
    for (const [port, target] of Object.entries(scenario.ports ?? {})) this.ports.set(Number(port), target);
    this.changed();
  }

  setContainer(container: string, condition: ContainerCondition, initialLines?: string[]): void {
    this.applyCondition(container, condition, initialLines);
    this.changed();
  }

  restartContainer(container: string, lines: string[] = []): void {
    this.current(container)?.end();
    this.restarts.set(container, (this.restarts.get(container) ?? 0) + 1);
    this.newInstance(container, lines);
    this.changed();
  }

  appendLog(container: string, lines: string[]): void {
    (this.current(container) ?? this.newInstance(container, [])).append(lines);
  }

  setPort(port: number, target: PortTarget | undefined): void {
    if (target) this.ports.set(port, target);
    else this.ports.delete(port);
  }

  setPodIP(ip: string): void {
    if (this.podIP === ip) return;
    this.podIP = ip;
    this.changed();
  }

  /** The container's run whose log `kubectl logs` shows (previous: the run before). */
  instance(container: string, previous = false): LogInstance | undefined {
    const runs = this.logs.get(container) ?? [];
    return runs[runs.length - (previous ? 2 : 1)];
  }

  /** The pod is gone: logs end, forwarded connections close. */
  stop(): void {
    this.stopped = true;
    for (const runs of this.logs.values()) for (const run of runs) run.end();
    for (const connection of [...this.connections]) connection.close();
  }

  private applyCondition(container: string, condition: ContainerCondition, lines: string[] = []): void {
    this.conditions.set(container, condition);
    if (!STARTED_STATES.has(condition.state)) return;
    if (!this.current(container)) this.newInstance(container, lines);
    if (condition.state === 'crash-loop') {
      // A crash loop has had runs before the current one: `previous` has a log too.
      if ((this.logs.get(container)?.length ?? 0) < 2) this.newInstance(container, lines);
      this.restarts.set(container, condition.restarts ?? Math.max(DEFAULT_CRASH_RESTARTS, this.restarts.get(container) ?? 0));
    }
    if (condition.state === 'crash-loop' || condition.state === 'completed' || condition.state === 'failed') this.current(container)?.end();
  }

  private current(container: string): LogInstance | undefined {
    return this.instance(container);
  }

  private newInstance(container: string, lines: string[]): LogInstance {
    const runs = this.logs.get(container) ?? [];
    runs[runs.length - 1]?.end();
    const run = new LogInstance();
    run.append(lines);
    runs.push(run);
    this.logs.set(container, runs);
    return run;
  }
}
