/**
 * The kube-proxy of the Docker pod backend, for Services whose pods are not containers
 * (PostgreSQL, RabbitMQ played by real servers on this machine): containers find such
 * a Service's name in their /etc/hosts at the pod network's gateway, where a relay
 * listens on the Service's port and carries each connection to a Ready pod behind the
 * Service - its selector, its targetPort by number or name, and the pod port's target
 * in the fake cluster - resolved anew for every connection, as kube-proxy does.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { FakeCluster } from './cluster.js';
import { findResource } from './resources.js';
import type { StoredObject } from './store.js';

const PODS = findResource('', 'v1', 'pods')!;

interface ServicePort {
  port: number;
  targetPort?: number | string;
  protocol?: string;
}

export interface ServiceSpec {
  selector?: Record<string, string>;
  ports?: ServicePort[];
}

export function serviceSpec(service: StoredObject): ServiceSpec {
  return (service.spec ?? {}) as ServiceSpec;
}

export function selects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** `<name>.<namespace>.svc.cluster.local`. */
export function serviceHost(service: StoredObject): string {
  return `${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local`;
}

function isReady(pod: StoredObject): boolean {
  const conditions = (pod.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions;
  return conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Where a connection to the Service's port goes now: a Ready pod's port target, or why there is none. */
export function resolveServiceTarget(cluster: FakeCluster, service: StoredObject, port: ServicePort): { host: string; port: number } | string {
  const { selector } = serviceSpec(service);
  const namespace = service.metadata.namespace ?? 'default';
  const ready = cluster.store.list(PODS, namespace).filter((pod) => selects(selector, pod.metadata.labels) && isReady(pod));
  for (const pod of ready) {
    const containers = ((pod.spec as { containers?: IContainer[] }).containers ?? []);
    const wanted = port.targetPort ?? port.port;
    const number = typeof wanted === 'number' || /^\d+$/.test(wanted)
      ? Number(wanted)
      : containers.flatMap((c) => c.ports ?? []).find((p) => p.name === wanted)?.containerPort;
    const target = number === undefined ? undefined : cluster.runtime(namespace, pod.metadata.name)?.ports.get(number);
    if (target) return target;
  }
  return `no Ready pod behind Service ${namespace}/${service.metadata.name} answers port ${port.port}`;
}

/** One listener per (address, port), carrying connections to whichever Service claimed it. */
export class ServiceRelays {
  private readonly servers = new Map<number, { server: Server; service: string }>();
  private readonly sockets = new Set<Socket>();
  /** Why connections were refused, newest last: what a failing test prints. */
  readonly refusals: string[] = [];

  constructor(
    private readonly cluster: FakeCluster,
    private readonly address: string,
  ) {}

  /** Listens for every TCP port of the Service (idempotent); a port another Service holds is an error. */
  async ensure(service: StoredObject): Promise<void> {
    const id = `${service.metadata.namespace}/${service.metadata.name}`;
    for (const port of serviceSpec(service).ports ?? []) {
      if ((port.protocol ?? 'TCP') !== 'TCP') continue;
      const held = this.servers.get(port.port);
      if (held) {
        if (held.service !== id) throw new Error(`Services ${held.service} and ${id} both use port ${port.port}: the relay address serves one`);
        continue;
      }
      const server = createServer((socket) => this.carry(socket, service.metadata.namespace ?? 'default', service.metadata.name, port.port));
      this.servers.set(port.port, { server, service: id });
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err) => reject(new Error(`relay for ${id} cannot listen on ${this.address}:${port.port}: ${err.message}`)));
        server.listen(port.port, this.address, resolve);
      });
    }
  }

  private carry(socket: Socket, namespace: string, name: string, servicePort: number): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const service = this.cluster.store.get(findResource('', 'v1', 'services')!, namespace, name);
    const port = service && (serviceSpec(service).ports ?? []).find((p) => p.port === servicePort);
    const target = service && port ? resolveServiceTarget(this.cluster, service, port) : `Service ${namespace}/${name} is gone`;
    if (typeof target === 'string') {
      this.refusals.push(target);
      socket.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    this.sockets.add(upstream);
    upstream.on('close', () => this.sockets.delete(upstream));
    upstream.on('error', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
    socket.pipe(upstream).pipe(socket);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await Promise.all([...this.servers.values()].map(({ server }) => new Promise<void>((resolve) => server.close(() => resolve()))));
    this.servers.clear();
  }
}
