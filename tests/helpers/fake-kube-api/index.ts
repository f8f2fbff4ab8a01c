/**
 * An in-test Kubernetes API server (docs/architecture.md, "Testing"): plain HTTP on
 * 127.0.0.1 with a bearer token, speaking the part of the API ecom's client uses -
 * discovery, server-side apply, get, list, watch, delete, pod logs and pod
 * port-forward over WebSocket - over a fake cluster whose controllers give workloads
 * pods and status. Tests drive the pods through scenarios (ready, image pull error,
 * crash loop, unschedulable, failing probe), replace pods, append log lines, and point
 * pod ports at real TCP servers.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeCluster } from './cluster.js';
import { statusObject, ApiFailure } from './http-status.js';
import { ManualPodBackend, type PodBackend } from './pod-backend.js';
import type { PodHandle, PodScenario } from './pod-runtime.js';
import { createPortForwardServer, servePortForward } from './port-forward.js';
import { findResource, findResourceByKind } from './resources.js';
import { authorized, parseResourcePath, route } from './router.js';
import { ObjectStore } from './store.js';
import { workloadKey, type WorkloadKind } from './workloads.js';
import { writeKubeconfig, type KubeconfigOptions } from './kubeconfig.js';

export type { PodScenario, ContainerCondition, PodHandle, PortTarget } from './pod-runtime.js';
export type { PodBackend } from './pod-backend.js';

export interface FakeKubeApiOptions {
  /** What runs the pods; default: scenarios set by the test (ManualPodBackend). */
  backend?: PodBackend;
  /** Namespaces that exist from the start (default, kube-system always do). */
  namespaces?: string[];
}

export class FakeKubeApi {
  readonly token = randomBytes(16).toString('hex');
  readonly store = new ObjectStore();
  readonly cluster: FakeCluster;
  /** Every request as `METHOD path?query`. */
  readonly requests: string[] = [];
  private readonly server: Server;
  private readonly openWatches = new Set<ServerResponse>();
  private readonly wss = createPortForwardServer();
  private address = '';

  constructor(readonly backend: PodBackend = new ManualPodBackend()) {
    this.cluster = new FakeCluster(this.store, backend);
    const context = { store: this.store, cluster: this.cluster, token: this.token, openWatches: this.openWatches, requests: this.requests, serverAddress: '' };
    this.server = createServer((req, res) => void route(req, res, { ...context, serverAddress: this.address }));
    this.server.on('upgrade', (req, socket, head) => {
      const path = parseResourcePath(new URL(req.url ?? '/', 'http://fake').pathname);
      const runtime = path?.name ? this.cluster.runtime(path.namespace ?? '', path.name) : undefined;
      const ports = new URL(req.url ?? '/', 'http://fake').searchParams.get('ports')?.split(',').map(Number) ?? [];
      this.requests.push(`UPGRADE ${req.url}`);
      let failure: ApiFailure | undefined;
      if (!authorized(req, this.token)) failure = new ApiFailure(401, 'Unauthorized', 'Unauthorized');
      else if (path?.subresource !== 'portforward') failure = new ApiFailure(404, 'NotFound', 'the server could not find the requested resource');
      else if (!runtime) failure = new ApiFailure(404, 'NotFound', `pods "${path.name}" not found`);
      else if (runtime.unschedulable) failure = new ApiFailure(400, 'BadRequest', `pod ${path.name} does not have a host assigned`);
      else if (ports.length === 0 || ports.some((p) => !Number.isInteger(p) || p <= 0)) failure = new ApiFailure(400, 'BadRequest', 'invalid port in ?ports=');
      if (failure || !runtime) return refuseUpgrade(socket, failure!);
      servePortForward(this.wss, req, socket, head, runtime, ports);
    });
  }

  /** http://127.0.0.1:PORT */
  get url(): string {
    return `http://${this.address}`;
  }

  async listen(namespaces: string[] = []): Promise<void> {
    this.cluster.start();
    const ns = findResource('', 'v1', 'namespaces')!;
    // The namespaces every cluster starts with (kind adds local-path-storage).
    for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease', ...namespaces]) {
      this.store.put(ns, { apiVersion: 'v1', kind: 'Namespace', metadata: { name }, status: { phase: 'Active' } });
    }
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.address = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** A kubeconfig file for this server (plain http, its token); returns its path. */
  writeKubeconfig(path: string, options: Omit<KubeconfigOptions, 'server' | 'token'> = {}): string {
    return writeKubeconfig(path, { server: this.url, token: this.token, ...options });
  }

  /** How the workload's pods behave from now on; its existing pods change at once. */
  scenario(namespace: string, workload: string, scenario: PodScenario, kind: WorkloadKind = 'Deployment'): void {
    const key = workloadKey(kind, namespace, workload);
    this.manualBackend().setScenario(key, scenario);
    for (const pod of this.cluster.podsOf(key)) pod.setScenario(scenario);
  }

  /** The names of the workload's pods now. */
  pods(namespace: string, workload: string, kind: WorkloadKind = 'Deployment'): string[] {
    this.cluster.flush();
    return this.cluster.podsOf(workloadKey(kind, namespace, workload)).map((p) => p.name);
  }

  pod(namespace: string, name: string): PodHandle {
    const runtime = this.cluster.runtime(namespace, name);
    if (!runtime) throw new Error(`fake kube: no pod ${namespace}/${name}`);
    return runtime;
  }

  /** Deletes the pod; its workload's controller creates a replacement (with `override`); returns its name. */
  replacePod(namespace: string, name: string, override?: PodScenario): string {
    const runtime = this.cluster.runtime(namespace, name);
    if (!runtime?.workload) throw new Error(`fake kube: pod ${namespace}/${name} belongs to no workload`);
    const before = new Set(this.cluster.podsOf(runtime.workload).map((p) => p.name));
    if (override) this.manualBackend().overrideNextPod(runtime.workload, override);
    this.store.remove(findResource('', 'v1', 'pods')!, namespace, name);
    this.cluster.flush();
    const added = this.cluster.podsOf(runtime.workload).find((p) => !before.has(p.name));
    if (!added) throw new Error(`fake kube: no replacement for ${namespace}/${name}`);
    return added.name;
  }

  /** Writes an object's status as its controller would (an HPA's current metrics, say). */
  setStatus(apiVersion: string, kind: string, namespace: string, name: string, status: Record<string, unknown>): void {
    const resource = findResourceByKind(apiVersion, kind);
    const object = resource && this.store.get(resource, namespace, name);
    if (!resource || !object) throw new Error(`fake kube: no ${kind} ${namespace}/${name}`);
    this.store.put(resource, { ...object, status });
  }

  async close(): Promise<void> {
    this.cluster.stop();
    for (const res of this.openWatches) res.end();
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private manualBackend(): ManualPodBackend {
    if (!(this.backend instanceof ManualPodBackend)) throw new Error('fake kube: scenarios need the manual pod backend');
    return this.backend;
  }
}

export async function startFakeKubeApi(options: FakeKubeApiOptions = {}): Promise<FakeKubeApi> {
  const api = new FakeKubeApi(options.backend);
  await api.listen(options.namespaces);
  return api;
}

function refuseUpgrade(socket: NodeJS.WritableStream & { destroy(): void }, failure: ApiFailure): void {
  const body = JSON.stringify(statusObject(failure));
  socket.end(`HTTP/1.1 ${failure.code} ${failure.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
