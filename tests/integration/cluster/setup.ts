/**
 * Shared setup of the cluster runtime tests: a fake API server and a kubeconfig per
 * test, the real client, objects shaped like the rendered system's (the namespaces,
 * names, labels and named ports of manifests/base), and real HTTP servers standing
 * in for pods.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { applyObjects } from '../../../src/kube/apply.js';
import { connectKube } from '../../../src/kube/connect.js';
import { waitForRollouts } from '../../../src/kube/rollout.js';
import type { KubeClient, KubeObject } from '../../../src/kube/types.js';
import { startFakeKubeApi, type FakeKubeApi, type PortTarget } from '../../helpers/fake-kube-api/index.js';
import { freePort } from '../../../src/runtime/local/embedded-postgres.js';

/** A port free on 127.0.0.1 now (the project's own helper). */
export { freePort };

export const SERVICES_NS = 'ecommerce';

export interface ClusterTestContext {
  api: FakeKubeApi;
  client: KubeClient;
  dir: string;
  kubeconfig: string;
  /** Run after each test, last registered first. */
  cleanups: Array<() => Promise<void> | void>;
}

export function useFakeCluster(): ClusterTestContext {
  const context = { cleanups: [] } as unknown as ClusterTestContext;
  beforeEach(async () => {
    context.dir = mkdtempSync(join(tmpdir(), 'ecom-cluster-'));
    context.api = await startFakeKubeApi();
    context.kubeconfig = context.api.writeKubeconfig(join(context.dir, 'kubeconfig'));
    context.client = await connectKube({ kubeconfigPath: context.kubeconfig });
  });
  afterEach(async () => {
    for (const cleanup of context.cleanups.splice(0).reverse()) await cleanup();
    await context.api.close();
    rmSync(context.dir, { recursive: true, force: true });
  });
  return context;
}

export function namespaceObject(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

const labelsOf = (name: string) => ({ 'app.kubernetes.io/name': name, 'app.kubernetes.io/managed-by': 'ecom' });

function template(name: string, port: number, image: string) {
  const labels = { 'app.kubernetes.io/name': name };
  return {
    metadata: { labels },
    spec: { containers: [{ name, image, ports: [{ name: `http-${name}`, containerPort: port }], readinessProbe: { httpGet: { path: '/health', port: `http-${name}` } } }] },
  };
}

/** A Deployment as manifests/base/services has them: container and named port `http-<name>`. */
export function deploymentObject(name: string, port: number, options: { namespace?: string; replicas?: number } = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: options.namespace ?? SERVICES_NS, labels: labelsOf(name) },
    spec: { replicas: options.replicas ?? 1, selector: { matchLabels: { 'app.kubernetes.io/name': name } }, template: template(name, port, `ecom/${name}:0123456789ab`) },
  };
}

export function statefulSetObject(name: string, namespace: string, port: number): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace, labels: labelsOf(name) },
    spec: { serviceName: name, replicas: 1, selector: { matchLabels: { 'app.kubernetes.io/name': name } }, template: template(name, port, `${name}:latest`) },
  };
}

/** `<name>-service` on `port` to the pods' `http-<name>`, as the services' manifests name them. */
export function serviceObject(name: string, port: number, options: { namespace?: string; serviceName?: string } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: options.serviceName ?? `${name}-service`, namespace: options.namespace ?? SERVICES_NS, labels: labelsOf(name) },
    spec: { selector: { 'app.kubernetes.io/name': name }, ports: [{ name: `http-${name}`, port, targetPort: `http-${name}` }] },
  };
}

export function hpaObject(name: string, min: number, max: number): KubeObject {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name, namespace: SERVICES_NS, labels: labelsOf(name) },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minReplicas: min,
      maxReplicas: max,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
    },
  };
}

/** Applies the objects and waits until every workload among them is rolled out. */
export async function applyAndRollOut(client: KubeClient, objects: KubeObject[]): Promise<void> {
  await applyObjects(client, objects);
  const result = await waitForRollouts(client, objects, { timeoutMs: 10_000, pollIntervalMs: 50 });
  if (result.outcome !== 'ready') throw new Error(`rollout did not finish: ${JSON.stringify(result)}`);
}

/** A real HTTP server standing in for one pod: it answers with its own name. */
export async function podServer(context: ClusterTestContext, name: string): Promise<PortTarget> {
  const server: Server = createHttpServer((req, res) => {
    if (req.url === '/health') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status: 'ok', pod: name }));
    } else res.end(`${name} answered ${req.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  context.cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { host: '127.0.0.1', port: (server.address() as AddressInfo).port };
}


/** One request on its own connection, as curl would make it. */
export function httpGet(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += String(chunk)));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}
