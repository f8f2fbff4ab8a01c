/**
 * `ecom status` for the local runtime: the state file, checked against /proc (is each
 * pid still ours?) and probed live (/health, broker port).
 */
import { SERVICE_NAMES, type Endpoints } from '../../core/system.js';
import type { DependencyStatus, ServiceStatus, SystemStatus } from '../types.js';
import { probeHealth, tcpAnswers, type HealthProbe } from '../../core/health-probe.js';
import { isOurs } from './proc.js';
import { recordedProcesses, type LocalState } from './state.js';
import { prometheusPortMoved } from './up-progress.js';

export const NOT_RUNNING: SystemStatus = { runtime: 'local', running: false, services: [], dependencies: [] };

/** True when the supervisor or anything it started is still alive. */
export function anythingAlive(state: LocalState): boolean {
  return isOurs(state.supervisor) || recordedProcesses(state).some((p) => isOurs(p.proc));
}

export function endpointsOf(state: LocalState): Endpoints {
  const services = Object.fromEntries(SERVICE_NAMES.map((s) => [s, state.services[s].url])) as Endpoints['services'];
  const endpoints: Endpoints = { services };
  if (state.prometheus.url && isOurs(state.prometheus.process)) endpoints.prometheus = state.prometheus.url;
  if (state.broker.kind === 'own' && state.broker.managementUrl && isOurs(state.broker.process)) {
    endpoints.brokerManagement = state.broker.managementUrl;
  }
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
    dependencies: [postgresStatus(state), broker, prometheusStatus(state)],
    endpoints: endpointsOf(state),
  };
}

function serviceStatus(state: LocalState, name: (typeof SERVICE_NAMES)[number], probe: HealthProbe, now: number): ServiceStatus {
  const record = state.services[name];
  const alive = isOurs(record.process);
  const status: ServiceStatus = {
    name,
    state: alive ? record.state : record.state === 'restarting' && isOurs(state.supervisor) ? 'restarting' : 'stopped',
    port: record.port,
    url: record.url,
    restarts: record.restarts,
    health: probe.health,
  };
  if (alive && record.process) status.pid = record.process.pid;
  if (alive && record.startedAt) status.uptimeSeconds = Math.max(0, Math.round((now - Date.parse(record.startedAt)) / 1000));
  return status;
}

function postgresStatus(state: LocalState): DependencyStatus {
  const pg = state.postgres;
  if (isOurs(pg.process)) {
    return { name: 'postgres', state: 'running', detail: `embedded PostgreSQL on 127.0.0.1:${pg.port}, data ${pg.dataDir}`, pid: pg.process!.pid };
  }
  return { name: 'postgres', state: 'stopped', detail: pg.error ?? (pg.phase === 'starting' ? 'starting' : 'not running') };
}

async function brokerStatus(state: LocalState): Promise<DependencyStatus> {
  const b = state.broker;
  const where = b.url ?? 'no URL';
  if (b.kind === 'none') return { name: 'broker', state: 'missing', detail: b.detail };
  const answers = b.host && b.port ? await tcpAnswers(b.host, b.port) : false;
  if (b.kind === 'own') {
    const alive = isOurs(b.process);
    if (alive && answers && b.phase === 'running') {
      const s: DependencyStatus = { name: 'broker', state: 'running', detail: `own RabbitMQ node ${b.nodeName} on ${b.host}:${b.port}`, url: where };
      if (b.vm) s.pid = b.vm.pid;
      return s;
    }
    const detail = alive && b.phase === 'starting' ? `own RabbitMQ node ${b.nodeName} starting` : (b.error ?? `own RabbitMQ node ${b.nodeName} not running`);
    return { name: 'broker', state: alive ? 'stopped' : 'missing', detail, url: where };
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
    const s: DependencyStatus = { name: 'prometheus', state: 'running', detail, pid: p.process.pid };
    if (p.url) s.url = p.url;
    return s;
  }
  return { name: 'prometheus', state: 'stopped', detail: p.error ?? 'not running' };
}
