/**
 * What the cluster runtimes' steps share while `up` runs, what `up` leaves in the state
 * directory for `status`, `logs` and `down`, and the forwards that put the system on
 * this machine (docs/architecture.md, "kind" and "context").
 */
import { readFileSync, renameSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PORTS, SERVICE_NAMES, type Endpoints } from '../../core/system.js';
import type { KubeClient, KubeObject } from '../../kube/types.js';
import type { MeshMode, RuntimeName } from '../types.js';
import type { ForwardSpec } from './forwarder-files.js';
import type { StepContext } from './plan.js';

export type { ForwardSpec } from './forwarder-files.js';

/** The detached forwarder (runtime/cluster/forwarder*.ts), as `up` and `down` drive it. */
export interface ForwarderControl {
  /** Why the forwards already run as asked, or undefined. */
  alreadyRunning(forwards: ForwardSpec[]): Promise<string | undefined>;
  start(forwards: ForwardSpec[]): Promise<void>;
  /** False when none ran. */
  stop(): Promise<boolean>;
}

export interface ClusterStepContext extends StepContext {
  /** The cluster client, connected on first use (after the cluster exists). */
  kube(): Promise<KubeClient>;
  /** The rendered objects with the real secrets (generated once, kept in the state directory). */
  systemObjects(): Promise<KubeObject[]>;
  fetch: typeof fetch;
  forwarder: ForwarderControl;
  /** What this `up` created, recorded for `down`. */
  created: { namespaces: Set<string>; helmReleases: Set<string> };
}

const MANAGEMENT_PORT = 15672;
const PROMETHEUS_PORT = 9090;
const GRAFANA_PORT = 3000;

/** The forwards of the whole system, every local port shifted by `offset`. */
export function systemForwards(offset: number): ForwardSpec[] {
  return [
    ...SERVICE_NAMES.map((service) => ({
      name: service,
      namespace: 'ecommerce',
      service: `${service}-service`,
      port: DEFAULT_PORTS[service],
      localPort: DEFAULT_PORTS[service] + offset,
    })),
    { name: 'prometheus', namespace: 'monitoring', service: 'prometheus', port: PROMETHEUS_PORT, localPort: PROMETHEUS_PORT + offset },
    { name: 'grafana', namespace: 'monitoring', service: 'grafana', port: GRAFANA_PORT, localPort: GRAFANA_PORT + offset },
    { name: 'rabbitmq', namespace: 'messaging', service: 'rabbitmq', port: MANAGEMENT_PORT, localPort: MANAGEMENT_PORT + offset },
  ];
}

export function endpointsFor(offset: number): Endpoints {
  const url = (port: number) => `http://127.0.0.1:${port + offset}`;
  return {
    services: Object.fromEntries(SERVICE_NAMES.map((s) => [s, url(DEFAULT_PORTS[s])])) as Endpoints['services'],
    prometheus: url(PROMETHEUS_PORT),
    grafana: url(GRAFANA_PORT),
    brokerManagement: url(MANAGEMENT_PORT),
  };
}

/** What `up` records, so later commands find the cluster, the ports and what to delete. */
export interface ClusterRecord {
  runtime: Extract<RuntimeName, 'kind' | 'context'>;
  kubeconfigPath: string;
  context: string;
  portOffset: number;
  mesh: MeshMode;
  registry: string;
  /** Namespaces that did not exist before ecom applied them: `down` may delete these. */
  createdNamespaces: string[];
  /** `namespace/name` of the Helm releases ecom installed. */
  helmReleases: string[];
  upAt: string;
}

export const CLUSTER_RECORD_FILE = 'cluster.json';

export function readClusterRecord(stateDir: string): ClusterRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(stateDir, CLUSTER_RECORD_FILE), 'utf8')) as ClusterRecord;
  } catch {
    return undefined;
  }
}

export function writeClusterRecord(stateDir: string, record: ClusterRecord): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const file = join(stateDir, CLUSTER_RECORD_FILE);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}

export function removeClusterRecord(stateDir: string): void {
  rmSync(join(stateDir, CLUSTER_RECORD_FILE), { force: true });
}
