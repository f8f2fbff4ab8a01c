/**
 * `ecom status` for the local runtime: the state file, checked against /proc (is each
 * pid still ours?) and probed live (/health, broker port).
 */
import { SERVICE_NAMES, type Endpoints, type ServiceName } from '../../core/system.js';
import type { DependencyStatus, ProcessDetail, ServiceStatus, SupervisorStatus, SystemStatus } from '../types.js';
import { probeHealth, tcpAnswers, type HealthProbe } from '../../core/health-probe.js';
import { isOurs } from '../../core/processes.js';
import { recordedProcesses, type LocalState, type OwnedProcess, type RestartRecord } from './state.js';
import { prometheusPortMoved } from './up-progress.js';

/** The supervisor keeps one process per service. */
const LOCAL_INSTANCES = 1;

export const NOT_RUNNING: SystemStatus = { runtime: 'local', running: false, services: [], dependencies: [] };

/**
 * The recorded supervisor runs. isOurs never says so of the asking process itself, and
 * the console asks from inside the supervisor.
 */
export function supervisorAlive(state: LocalState): boolean {
  return state.supervisor.pid === process.pid || isOurs(state.supervisor);
}

/** True when the supervisor or anything it started is still alive. */
export function anythingAlive(state: LocalState): boolean {
  return supervisorAlive(state) || recordedProcesses(state).some((p) => isOurs(p.proc));
}

export function endpointsOf(state: LocalState): Endpoints {
  const services = Object.fromEntries(SERVICE_NAMES.map((s) => [s, state.services[s].url])) as Endpoints['services'];
  const endpoints: Endpoints = { services };
  if (state.prometheus.url && isOurs(state.prometheus.process)) endpoints.prometheus = state.prometheus.url;
  if (state.broker.kind === 'own' && state.broker.managementUrl && isOurs(state.broker.process)) {
    endpoints.brokerManagement = state.broker.managementUrl;
  }
  if (state.console?.url && supervisorAlive(state)) endpoints.console = state.console.url;
  return endpoints;
}

export async function computeStatus(state: LocalState | undefined, now = Date.now()): Promise<SystemStatus> {
  if (!state || !anythingAlive(state)) return NOT_RUNNING;
  const [probes, broker] = await Promise.all([
    Promise.all(SERVICE_NAMES.map((s) => probeHealth(state.services[s].url))),
    brokerStatus(state),
  ]);
  const services = SERVICE_NAMES.map((name, i) => serviceStatus(state, name, probes[i]!, now));
  return {
    runtime: 'local',
    running: true,
    services,
    dependencies: [postgresStatus(state), withRestarts(broker, state.broker), withRestarts(prometheusStatus(state), state.prometheus)],
    endpoints: endpointsOf(state),
    supervisor: supervisorStatus(state),
  };
}

/**
 * The supervisor, and when it is gone (SIGKILLed, crashed) while parts it started
 * still run: those parts, unsupervised (nothing restarts them), and how to recover.
 * `ours` says whether a recorded process is still the one we started (tests pass it).
 */
export function supervisorStatus(state: LocalState, ours: (p: OwnedProcess | undefined) => boolean = isOurs): SupervisorStatus {
  const pid = state.supervisor.pid;
  if (pid === process.pid || ours(state.supervisor)) return { state: 'running', pid, orphans: [], detail: `pid ${pid}` };
  const orphans = [...new Set(recordedProcesses(state).filter((p) => ours(p.proc)).map((p) => p.what.replace(/ \(.*\)$/, '')))];
  return {
    state: 'gone',
    pid,
    orphans,
    detail: `not running (pid ${pid} was killed or crashed); ${orphans.length ? `${orphans.join(', ')} still run${orphans.length === 1 ? 's' : ''}, unsupervised` : 'nothing it started runs'}`,
    hint: 'run `ecom up` to recover (it stops what is left and starts everything again), or `ecom down`',
  };
}

/** A dependency's restarts by the supervisor, in its detail and as fields. */
export function withRestarts(status: DependencyStatus, record: RestartRecord): DependencyStatus {
  if (!record.restarts) return status;
  const last = record.lastRestart;
  const detail = `${status.detail}; restarted ${record.restarts}×${last ? `, last ${last.at.replace(/\.\d+Z$/, 'Z')} after ${last.reason}` : ''}`;
  return { ...status, detail, restarts: record.restarts, ...(last ? { lastRestart: last.at } : {}) };
}

/** `ours` says whether a recorded process is still the one we started (tests pass it). */
export function serviceStatus(
  state: LocalState,
  name: ServiceName,
  probe: HealthProbe,
  now: number,
  ours: (p: OwnedProcess | undefined) => boolean = isOurs,
): ServiceStatus {
  const record = state.services[name];
  const alive = ours(record.process);
  const detail: ProcessDetail = { kind: 'process' };
  if (alive && record.process) detail.pid = record.process.pid;
  if (alive && record.startedAt) detail.uptimeSeconds = Math.max(0, Math.round((now - Date.parse(record.startedAt)) / 1000));
  return {
    name,
    // Not started yet (order and frontend wait for the broker) is starting, as `up` says, not stopped.
    state: alive ? record.state : ['restarting', 'starting'].includes(record.state) && (state.supervisor.pid === process.pid || ours(state.supervisor)) ? record.state : 'stopped',
    // Ready as a Kubernetes readiness probe on /health would say: a 200 (ok or degraded).
    ready: alive && (probe.health === 'ok' || probe.health === 'degraded') ? 1 : 0,
    desired: LOCAL_INSTANCES,
    restarts: record.restarts,
    health: probe.health,
    url: record.url,
    detail,
  };
}

function postgresStatus(state: LocalState): DependencyStatus {
  const pg = state.postgres;
  if (isOurs(pg.process)) {
    return withRestarts({ name: 'postgres', state: 'running', detail: `embedded PostgreSQL on 127.0.0.1:${pg.port}, data ${pg.dataDir}` }, pg);
  }
  if (pg.restarts && pg.phase === 'running' && supervisorAlive(state)) {
    return withRestarts({ name: 'postgres', state: 'starting', detail: 'exited; the supervisor restarts it' }, pg);
  }
  if (pg.phase === 'starting' && supervisorAlive(state)) return withRestarts({ name: 'postgres', state: 'starting', detail: 'starting' }, pg);
  return withRestarts({ name: 'postgres', state: 'stopped', detail: pg.error ?? 'not running' }, pg);
}

async function brokerStatus(state: LocalState): Promise<DependencyStatus> {
  const b = state.broker;
  const where = b.url ?? 'no URL';
  if (b.kind === 'none') return { name: 'broker', state: 'missing', detail: b.detail };
  const answers = b.host && b.port ? await tcpAnswers(b.host, b.port) : false;
  if (b.kind === 'own') {
    const alive = isOurs(b.process);
    if (alive && answers && b.phase === 'running') {
      return { name: 'broker', state: 'running', detail: `own RabbitMQ node ${b.nodeName} on ${b.host}:${b.port}`, url: where };
    }
    const detail = alive && b.phase === 'starting' ? `own RabbitMQ node ${b.nodeName} starting` : (b.error ?? `own RabbitMQ node ${b.nodeName} not running`);
    return { name: 'broker', state: alive ? (b.phase === 'starting' ? 'starting' : 'stopped') : 'missing', detail, url: where };
  }
  const source = b.kind === 'given' ? 'given by --amqp-url/AMQP_URL' : 'found on 127.0.0.1:5672';
  return answers
    ? { name: 'broker', state: 'external', detail: `RabbitMQ ${source}`, url: where }
    : { name: 'broker', state: 'missing', detail: `not connected: ${where} does not answer (${source}); orders wait in the outbox`, url: where };
}

/** `alive`: whether the recorded Prometheus pid is still ours (tests pass it). */
export function prometheusStatus(state: LocalState, alive = isOurs(state.prometheus.process)): DependencyStatus {
  const p = state.prometheus;
  if (p.phase === 'missing') return { name: 'prometheus', state: 'missing', detail: 'prometheus is not installed; metrics are not scraped' };
  if (alive && p.process) {
    const moved = prometheusPortMoved(state);
    const detail = `scraping the four services every 5s${moved ? `; ${moved}` : ''}`;
    const s: DependencyStatus = { name: 'prometheus', state: 'running', detail };
    if (p.url) s.url = p.url;
    return s;
  }
  return { name: 'prometheus', state: 'stopped', detail: p.error ?? 'not running' };
}
