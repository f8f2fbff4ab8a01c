/**
 * One container of a pod run by the Docker pod backend, watched as a kubelet watches
 * it: its state and restart count from the engine every second, its readiness probe
 * (httpGet, tcpSocket or exec) on the probe's own period and thresholds, its output
 * followed with `docker logs` (a new run after each restart), and all of that reported
 * to the fake cluster through the pod's PodHandle.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import { docker, dockerApi, TEST_DOCKER_CLIENT } from '../docker.js';
import { resolvePort } from './docker-run-args.js';
import type { ContainerCondition, PodHandle } from './pod-runtime.js';

const WATCH_INTERVAL_MS = 1_000;
const STOP_COMMAND_TIMEOUT_MS = 60_000;
/** A kubelet's default grace is 30 s; the tests' containers stop on SIGTERM in well under this. */
const MAX_STOP_GRACE_S = 10;

interface EngineState {
  State: { Status: string; Running: boolean; ExitCode: number; StartedAt: string; FinishedAt: string };
  RestartCount: number;
  NetworkSettings: { Ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null>; Networks: Record<string, { IPAddress: string }> };
}

export async function inspectContainer(host: string, name: string): Promise<EngineState | undefined> {
  const answer = await dockerApi(host, 'GET', `/containers/${encodeURIComponent(name)}/json`, 10_000);
  if (answer.status === 404) return undefined;
  if (answer.status !== 200) throw new Error(`inspect ${name}: ${answer.status} ${answer.body}`);
  return JSON.parse(answer.body) as EngineState;
}

/** The host port the engine published for each container port. */
export function publishedPorts(state: EngineState): Map<number, number> {
  const ports = new Map<number, number>();
  for (const [key, bindings] of Object.entries(state.NetworkSettings.Ports ?? {})) {
    const binding = bindings?.find((b) => b.HostIp === '127.0.0.1') ?? bindings?.[0];
    if (binding) ports.set(Number(key.split('/')[0]), Number(binding.HostPort));
  }
  return ports;
}

export class PodContainer {
  private timer: NodeJS.Timeout | undefined;
  private follower: ChildProcess | undefined;
  /** The StartedAt of the run whose output is followed. */
  private followedRun = '';
  private restartsSeen = 0;
  private nextProbeAt = 0;
  private probeSuccesses = 0;
  private probeFailures = 0;
  private ready = false;
  private lastProbeMessage = '';
  private condition = '';
  private stopping = false;

  constructor(
    private readonly host: string,
    readonly name: string,
    private readonly pod: PodHandle,
    private readonly container: IContainer,
    private readonly ports: Map<number, number>,
    private readonly gracePeriodSeconds: number,
    /** The pod network, when this container's address there is the pod's IP (its first container's). */
    private readonly network: string | undefined,
  ) {}

  /** Starts following the running container: its first run, so its whole output. */
  watch(startedAt: string): void {
    this.nextProbeAt = Date.now() + (this.container.readinessProbe?.initialDelaySeconds ?? 0) * 1_000;
    this.followLogs(startedAt, undefined);
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => void this.tick().finally(() => this.schedule(WATCH_INTERVAL_MS)), delayMs);
  }

  private async tick(): Promise<void> {
    const state = await inspectContainer(this.host, this.name).catch(() => undefined);
    if (this.stopping || !state) return;
    while (state.RestartCount > this.restartsSeen) {
      this.restartsSeen++;
      this.pod.restartContainer(this.container.name);
      this.resetProbe();
    }
    // A new run's output begins after the previous run finished (FinishedAt still names that run while this one runs).
    if (state.State.Running && state.State.StartedAt !== this.followedRun) this.followLogs(state.State.StartedAt, state.State.FinishedAt);
    // A restarted container may get another address on the pod network (Kubernetes keeps
    // a pod's IP across container restarts; Docker allocates again): Prometheus must
    // follow it, or it scrapes an address that is now nobody's, or another pod's.
    const ip = this.network ? state.NetworkSettings.Networks[this.network]?.IPAddress : undefined;
    if (state.State.Running && ip) this.pod.setPodIP(ip);
    // The engine publishes a restarted container on new host ports.
    for (const [containerPort, hostPort] of publishedPorts(state)) {
      if (this.ports.get(containerPort) === hostPort) continue;
      this.ports.set(containerPort, hostPort);
      this.pod.setPort(containerPort, { host: '127.0.0.1', port: hostPort });
    }
    if (!state.State.Running || state.State.Status === 'restarting') {
      this.report(state.RestartCount > 0
        ? { state: 'crash-loop', exitCode: state.State.ExitCode, restarts: state.RestartCount }
        : { state: 'failed', exitCode: state.State.ExitCode });
      return;
    }
    if (Date.now() >= this.nextProbeAt) await this.probe();
    this.report(this.readiness());
  }

  private resetProbe(): void {
    this.probeSuccesses = 0;
    this.probeFailures = 0;
    this.ready = false;
    this.nextProbeAt = Date.now() + (this.container.readinessProbe?.initialDelaySeconds ?? 0) * 1_000;
  }

  /** Ready after successThreshold passes in a row, unready again after failureThreshold failures in a row. */
  private readiness(): ContainerCondition {
    const probe = this.container.readinessProbe;
    if (!probe || this.ready) return { state: 'ready' };
    if (this.probeFailures >= (probe.failureThreshold ?? 3)) return { state: 'unhealthy', message: `Readiness probe failed: ${this.lastProbeMessage}` };
    return { state: 'starting' };
  }

  private async probe(): Promise<void> {
    const probe = this.container.readinessProbe;
    if (!probe) return;
    this.nextProbeAt = Date.now() + (probe.periodSeconds ?? 10) * 1_000;
    const failure = await this.runProbe(probe).catch((err: Error) => err.message);
    if (failure === undefined) {
      this.probeSuccesses++;
      this.probeFailures = 0;
      if (this.probeSuccesses >= (probe.successThreshold ?? 1)) this.ready = true;
    } else {
      this.probeFailures++;
      this.probeSuccesses = 0;
      this.lastProbeMessage = failure;
      if (this.probeFailures >= (probe.failureThreshold ?? 3)) this.ready = false;
    }
  }

  /** Undefined when the probe passes, else the kubelet's words for why not. */
  private async runProbe(probe: IProbe): Promise<string | undefined> {
    const timeoutMs = (probe.timeoutSeconds ?? 1) * 1_000;
    if (probe.httpGet) {
      const port = this.ports.get(resolvePort(this.container, probe.httpGet.port as number | string));
      const url = `http://127.0.0.1:${port}${probe.httpGet.path ?? '/'}`;
      const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) }).catch((err: Error) => err);
      if (response instanceof Error) return `Get "${url}": ${response.cause instanceof Error ? response.cause.message : response.message}`;
      await response.body?.cancel();
      return response.status >= 200 && response.status < 400 ? undefined : `HTTP probe failed with statuscode: ${response.status}`;
    }
    if (probe.tcpSocket) {
      const port = this.ports.get(resolvePort(this.container, probe.tcpSocket.port as number | string))!;
      return new Promise((resolve) => {
        const socket = connect(port, '127.0.0.1');
        const done = (why?: string) => (socket.destroy(), resolve(why));
        socket.setTimeout(timeoutMs, () => done('dial tcp: i/o timeout'));
        socket.once('connect', () => done());
        socket.once('error', (err) => done(`dial tcp: ${err.message}`));
      });
    }
    if (probe.exec?.command) {
      const ran = await docker(this.host, ['exec', this.name, ...probe.exec.command], { timeoutMs, withStderr: true }).then(() => undefined, (err: Error) => err.message);
      return ran;
    }
    return 'the Docker pod backend runs httpGet, tcpSocket and exec probes only';
  }

  private report(condition: ContainerCondition): void {
    const key = JSON.stringify(condition);
    if (key === this.condition) return;
    this.condition = key;
    this.pod.setContainer(this.container.name, condition);
  }

  /**
   * `docker logs --follow` of the run that started at `startedAt`; each line into the
   * pod's log for the container. Not `--since startedAt`: the engine records StartedAt
   * after the process is already running, so on a loaded machine a service's first line
   * (often its only one, "listening") carries an earlier timestamp and was dropped —
   * `ecom logs` then showed nothing. So: the whole output for the first run, and what came
   * after the previous run finished for a restart.
   */
  private followLogs(startedAt: string, previousFinishedAt: string | undefined): void {
    this.follower?.kill();
    this.followedRun = startedAt;
    // 0001-01-01…: the engine's zero time, a container that never finished.
    const since = previousFinishedAt && !previousFinishedAt.startsWith('0001-') ? ['--since', previousFinishedAt] : [];
    const child = spawn(TEST_DOCKER_CLIENT, ['logs', '--follow', '--timestamps', ...since, this.name], {
      env: { ...process.env, DOCKER_HOST: this.host },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.follower = child;
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        // The engine's own timestamp comes first; the fake stamps lines itself, as the kubelet does.
        if (this.follower === child) this.pod.appendLog(this.container.name, [line.replace(/^\S+ /, '')]);
      });
    }
    child.on('error', () => {});
  }

  /** The kubelet's stop: SIGTERM, the grace period, then SIGKILL; the container is removed. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    const grace = Math.min(this.gracePeriodSeconds, MAX_STOP_GRACE_S);
    await docker(this.host, ['stop', '--time', String(grace), this.name], { timeoutMs: STOP_COMMAND_TIMEOUT_MS }).catch(() => {});
    this.follower?.kill();
    this.follower = undefined;
    await docker(this.host, ['rm', '--force', this.name], { timeoutMs: STOP_COMMAND_TIMEOUT_MS }).catch(() => {});
  }
}
