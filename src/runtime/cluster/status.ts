/**
 * `ecom status` for the cluster runtimes (docs/architecture.md, "kind"): per service
 * its Deployment's ready/desired replicas, the restarts of its pods' containers, each
 * pod's phase and reason, its HPA's current/target replicas, and /health through the
 * service's forward; the dependencies from their StatefulSets and Deployments
 * (including the Helm releases'); and each forward's state and reconnects as the
 * forwarder last wrote them.
 */
import { probeHealth, type Health } from '../../core/health-probe.js';
import { SERVICE_NAMES, type Endpoints, type ServiceName } from '../../core/system.js';
import { formatHpaMetrics, readClusterStatus, type HpaStatusRow, type WorkloadStatusRow } from '../../kube/status.js';
import type { KubeClient } from '../../kube/types.js';
import type { DependencyStatus, PodDetail, PortForwardStatus, RuntimeName, ServiceState, ServiceStatus, SystemStatus } from '../types.js';
import { readForwardStates } from './forwarder.js';

/** Where manifests/base puts the services (one Deployment each, named as the service). */
export const SERVICES_NAMESPACE = 'ecommerce';

interface DependencyWorkload {
  name: string;
  namespace: string;
  /** Workload names to look for, in order (a Helm chart may name its own). */
  workloads: string[];
  url?: (endpoints: Endpoints) => string | undefined;
}

/** The system's dependencies: manifests/base/infra's StatefulSets and the Helm releases of manifests/helm. */
export const DEPENDENCY_WORKLOADS: DependencyWorkload[] = [
  { name: 'postgres', namespace: 'database', workloads: ['postgres'] },
  { name: 'rabbitmq', namespace: 'messaging', workloads: ['rabbitmq'], url: (e) => e.brokerManagement },
  { name: 'elasticsearch', namespace: 'logging', workloads: ['elasticsearch'] },
  { name: 'prometheus', namespace: 'monitoring', workloads: ['prometheus', 'prometheus-server'], url: (e) => e.prometheus },
  { name: 'grafana', namespace: 'monitoring', workloads: ['grafana'], url: (e) => e.grafana },
];

export interface ClusterStatusOptions {
  runtime: Extract<RuntimeName, 'kind' | 'context'>;
  /** Where the forwards put the system on this machine; undefined: nothing is probed. */
  endpoints?: Endpoints;
  /** Where the forwarder keeps forwards.json. */
  stateDir: string;
}

interface ClusterView {
  workloads: WorkloadStatusRow[];
  hpas: HpaStatusRow[];
  forwards: PortForwardStatus[];
}

/** What runs in the cluster; `running: false` when none of the services' Deployments exists and no forward runs. */
export async function clusterStatus(client: KubeClient, options: ClusterStatusOptions): Promise<SystemStatus> {
  const namespaces = [...new Set([SERVICES_NAMESPACE, ...DEPENDENCY_WORKLOADS.map((d) => d.namespace)])];
  // One namespace at a time, never the whole cluster: a shared cluster may allow ecom no more.
  const reads = await Promise.all(namespaces.map((namespace) => readClusterStatus(client, { namespace })));
  const view: ClusterView = {
    workloads: reads.flatMap((r) => r.workloads),
    hpas: reads.flatMap((r) => r.hpas),
    forwards: readForwardStates(options.stateDir),
  };
  const services = await Promise.all(SERVICE_NAMES.map((name) => serviceStatus(name, view, options.endpoints)));
  const anything = services.some((s) => s.desired > 0 || (s.detail.kind === 'pods' && s.detail.pods.length > 0));
  if (!anything && !view.forwards.some((f) => f.state !== 'stopped')) {
    return { runtime: options.runtime, running: false, services: [], dependencies: [] };
  }
  const status: SystemStatus = {
    runtime: options.runtime,
    running: true,
    services,
    dependencies: DEPENDENCY_WORKLOADS.map((d) => dependencyStatus(d, view.workloads, options.endpoints)),
    forwards: view.forwards,
  };
  if (options.endpoints) status.endpoints = options.endpoints;
  return status;
}

async function serviceStatus(name: ServiceName, view: ClusterView, endpoints: Endpoints | undefined): Promise<ServiceStatus> {
  const deployment = view.workloads.find((w) => w.kind === 'Deployment' && w.namespace === SERVICES_NAMESPACE && w.name === name);
  const hpa = view.hpas.find((h) => h.namespace === SERVICES_NAMESPACE && h.target === `Deployment/${name}`);
  const url = endpoints?.services[name] ?? '';
  const pods = (deployment?.pods ?? []).map(podDetail);
  const ready = deployment?.ready ?? 0;
  return {
    name,
    state: serviceState(deployment),
    ready,
    desired: deployment?.desired ?? 0,
    restarts: deployment?.restarts ?? 0,
    health: await healthThroughForward(url, ready, view.forwards.find((f) => f.name === name)),
    url,
    detail: {
      kind: 'pods',
      pods,
      ...(hpa
        ? { autoscaler: { minReplicas: hpa.minReplicas, maxReplicas: hpa.maxReplicas, currentReplicas: hpa.currentReplicas, desiredReplicas: hpa.desiredReplicas, metrics: formatHpaMetrics(hpa) } }
        : {}),
    },
  };
}

/**
 * GET /health through the service's forward. Not asked when no pod is ready or the
 * forward is not: a forward holds connections while it looks for a pod, so the probe
 * would only wait for its timeout to say what is already known.
 */
async function healthThroughForward(url: string, ready: number, forward: PortForwardStatus | undefined): Promise<Health> {
  if (!url || ready === 0 || (forward && forward.state !== 'ready')) return 'unreachable';
  return (await probeHealth(url)).health;
}

/** running when every desired replica is ready; restarting while a container crash-loops; crashed when a pod failed. */
function serviceState(deployment: WorkloadStatusRow | undefined): ServiceState {
  if (!deployment || deployment.desired === 0) return 'stopped';
  if (deployment.ready >= deployment.desired) return 'running';
  if (deployment.pods.some((p) => p.reason === 'CrashLoopBackOff')) return 'restarting';
  if (deployment.pods.some((p) => p.phase === 'Failed' || p.reason === 'Error')) return 'crashed';
  return 'starting';
}

function podDetail(pod: WorkloadStatusRow['pods'][number]): PodDetail {
  const detail: PodDetail = { name: pod.name, phase: pod.phase, ready: pod.ready, restarts: pod.restarts };
  // kubectl's STATUS is the phase itself for a pod with nothing to add.
  if (pod.reason !== pod.phase) detail.reason = pod.reason;
  return detail;
}

function dependencyStatus(dependency: DependencyWorkload, workloads: WorkloadStatusRow[], endpoints: Endpoints | undefined): DependencyStatus {
  const found = dependency.workloads
    .map((name) => workloads.find((w) => w.kind !== 'Job' && w.namespace === dependency.namespace && w.name === name))
    .find((w) => w !== undefined);
  const url = endpoints && dependency.url?.(endpoints);
  const withUrl = (status: DependencyStatus): DependencyStatus => (url ? { ...status, url } : status);
  if (!found) {
    return withUrl({ name: dependency.name, state: 'missing', detail: `no Deployment or StatefulSet ${dependency.namespace}/${dependency.workloads[0]}` });
  }
  const where = `${found.kind} ${found.namespace}/${found.name}: ${found.ready}/${found.desired} ready`;
  const troubled = found.pods.filter((p) => !p.ready).map((p) => `${p.name} ${p.reason}${p.restarts > 0 ? `, ${p.restarts} restarts` : ''}`);
  const detail = troubled.length > 0 ? `${where} (${troubled.join('; ')})` : where;
  const state = found.desired === 0 ? 'stopped' : found.ready >= found.desired ? 'running' : 'starting';
  return withUrl({ name: dependency.name, state, detail });
}
