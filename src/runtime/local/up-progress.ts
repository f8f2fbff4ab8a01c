/**
 * What `up` still waits for, as pure functions of the state file and /health probes,
 * and the progress events it emits as things become ready.
 */
import { SERVICE_NAMES, type ServiceName } from '../../core/system.js';
import type { ProgressEvent } from '../types.js';
import type { HealthProbe } from '../../core/health-probe.js';
import { MAX_PORT } from './ports.js';
import type { LocalState } from './state.js';

export interface Pending {
  what: string;
  why: string;
}

/** Services that talk to the broker: with a broker present, `up` waits until they are connected. */
const BROKER_CLIENTS: ServiceName[] = ['order', 'frontend'];

/**
 * `brokerAnswers`: whether the broker the state calls running still accepts TCP
 * connections; when it went away, waiting for its clients to connect would never end.
 */
export function pendingItems(state: LocalState, probes: Record<ServiceName, HealthProbe>, brokerAnswers = true): Pending[] {
  const pending: Pending[] = [];
  if (state.postgres.phase === 'starting') pending.push({ what: 'postgres', why: 'starting' });
  if (state.broker.phase === 'starting') pending.push({ what: 'broker', why: `${state.broker.kind === 'own' ? 'RabbitMQ node booting' : 'checking'}` });
  if (state.prometheus.phase === 'starting') pending.push({ what: 'prometheus', why: 'starting' });
  for (const s of SERVICE_NAMES) {
    const probe = probes[s];
    const notStarted = !state.services[s].process;
    if (notStarted && state.broker.phase === 'starting' && BROKER_CLIENTS.includes(s)) {
      pending.push({ what: s, why: 'starts when the broker answers' });
    } else if (probe.health === 'unreachable' || probe.health === 'unavailable') {
      pending.push({ what: s, why: `${probe.health}${probe.detail ? `: ${probe.detail}` : ''}` });
    } else if (probe.health === 'degraded' && BROKER_CLIENTS.includes(s)) {
      if (state.broker.phase === 'running' && brokerAnswers) pending.push({ what: s, why: 'not connected to the broker yet' });
      if (state.broker.phase === 'starting') pending.push({ what: s, why: 'waiting for the broker' });
    }
  }
  return pending;
}

export function describeWaiting(pending: Pending[]): string {
  return pending.map((p) => `${p.what} (${p.why})`).join(', ');
}

/** What a user should know about a system that is up: a missing broker or Prometheus. */
export function upWarnings(state: LocalState, brokerAnswers = true): string[] {
  const warnings: string[] = [];
  const b = state.broker;
  if (b.phase === 'running' && !brokerAnswers) warnings.push(`broker ${b.url} stopped answering; orders wait in the outbox until it is back`);
  if (b.phase === 'missing') warnings.push(`no broker: ${b.detail}`);
  if (b.phase === 'unreachable') warnings.push(`broker ${b.url} does not answer; orders wait in the outbox until it does`);
  if (b.phase === 'failed') warnings.push(`own RabbitMQ node failed: ${b.error ?? 'see logs/rabbitmq.log'}; orders wait in the outbox`);
  if (state.prometheus.phase === 'missing') warnings.push('prometheus is not installed: metrics are not scraped (apt-get install prometheus)');
  if (state.prometheus.phase === 'failed') warnings.push(`prometheus failed: ${state.prometheus.error ?? 'see logs/prometheus.log'}`);
  const moved = prometheusPortMoved(state);
  if (moved && state.prometheus.phase === 'running') warnings.push(`prometheus is ${moved}`);
  const managementMoved = managementPortMoved(state);
  if (managementMoved && b.phase === 'running') warnings.push(`the RabbitMQ management UI is ${managementMoved}`);
  return warnings;
}

/** Like prometheusPortMoved, for the own RabbitMQ node's management UI (15672 + offset). */
export function managementPortMoved(state: LocalState): string | undefined {
  const { managementUrl, managementPlannedPort: planned } = state.broker;
  if (!managementUrl || planned === undefined) return undefined;
  const port = Number(new URL(managementUrl).port);
  if (port === planned) return undefined;
  const why = planned > MAX_PORT ? 'which is above 65535' : 'which was taken';
  return `on port ${port} instead of ${planned} (15672 + port offset ${state.portOffset}), ${why}`;
}

/**
 * "on port 41234 instead of 9790 (9090 + port offset 700), which was taken", or
 * undefined when it got its planned port (or the state predates plannedPort).
 */
export function prometheusPortMoved(state: LocalState): string | undefined {
  const { port, plannedPort } = state.prometheus;
  if (port === undefined || plannedPort === undefined || port === plannedPort) return undefined;
  const why = plannedPort > MAX_PORT ? 'which is above 65535' : 'which was taken';
  return `on port ${port} instead of ${plannedPort} (9090 + port offset ${state.portOffset}), ${why}`;
}

type TaskStatus = 'starting' | 'done' | 'skipped' | 'warned';

/**
 * Turns successive (state, probes) snapshots into start/done/skip/warn events, each
 * once, and a waiting event whenever what a part waits for changes, so each row of a
 * live board says why it waits.
 */
export class UpProgress {
  private readonly seen = new Map<string, TaskStatus>();
  private readonly reasons = new Map<string, string>();

  constructor(private readonly emit: (event: ProgressEvent) => void) {}

  update(state: LocalState, probes: Record<ServiceName, HealthProbe>): void {
    const pendingList = pendingItems(state, probes);
    const pending = new Set(pendingList.map((p) => p.what));
    const pg = state.postgres;
    this.set('postgres', pg.phase === 'starting' ? 'starting' : pg.phase === 'running' ? 'done' : 'warned', `127.0.0.1:${pg.port}`, pg.error);
    const b = state.broker;
    const brokerStatus: TaskStatus =
      b.phase === 'starting' ? 'starting' : b.phase === 'running' ? 'done' : b.phase === 'missing' ? 'skipped' : 'warned';
    const brokerProblem = b.phase === 'unreachable' ? `${b.url} does not answer; orders wait in the outbox` : (b.error ?? b.detail);
    this.set('broker', brokerStatus, `${b.kind === 'own' ? `own node ${b.nodeName ?? ''}` : b.kind} ${b.url ?? ''}`.trim(), brokerProblem);
    const p = state.prometheus;
    const promStatus: TaskStatus = p.phase === 'starting' ? 'starting' : p.phase === 'running' ? 'done' : p.phase === 'missing' ? 'skipped' : 'warned';
    this.set('prometheus', promStatus, p.url ?? '', p.error ?? 'not installed');
    for (const s of SERVICE_NAMES) {
      this.set(s, pending.has(s) ? 'starting' : 'done', `${state.services[s].url} ${probes[s].health}`);
    }
    for (const p of pendingList) {
      // `starting` is what the start event already said.
      if (this.seen.get(p.what) !== 'starting' || p.why === 'starting' || this.reasons.get(p.what) === p.why) continue;
      this.reasons.set(p.what, p.why);
      this.emit({ kind: 'waiting', task: p.what, reason: p.why });
    }
  }

  private set(task: string, status: TaskStatus, detail: string, problem?: string): void {
    const before = this.seen.get(task);
    if (before === status) return;
    if (before === undefined && status !== 'starting') this.emit({ kind: 'start', task });
    this.seen.set(task, status);
    if (status === 'starting') this.emit({ kind: 'start', task });
    else if (status === 'done') this.emit({ kind: 'done', task, detail });
    else if (status === 'skipped') this.emit({ kind: 'skip', task, reason: problem ?? 'not available' });
    else this.emit({ kind: 'warn', task, message: problem ?? 'failed' });
  }
}
