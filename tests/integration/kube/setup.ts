/**
 * Shared setup of the Kubernetes-layer tests: a fake API server per test, a
 * kubeconfig pointing at it in a temporary directory, the real client from src/kube
 * built from that kubeconfig, and small rendered-like objects.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { connectKube } from '../../../src/kube/connect.js';
import type { KubeClient, KubeObject } from '../../../src/kube/types.js';
import { startFakeKubeApi, type FakeKubeApi } from '../../helpers/fake-kube-api/index.js';

export const NAMESPACE = 'ecom';

export interface KubeTestContext {
  api: FakeKubeApi;
  client: KubeClient;
  dir: string;
  kubeconfig: string;
}

/** Registers before/after hooks; the returned object is filled in before each test. */
export function useFakeCluster(): KubeTestContext {
  const context = {} as KubeTestContext;
  beforeEach(async () => {
    context.dir = mkdtempSync(join(tmpdir(), 'ecom-kube-'));
    context.api = await startFakeKubeApi();
    context.kubeconfig = context.api.writeKubeconfig(join(context.dir, 'kubeconfig'));
    context.client = await connectKube({ kubeconfigPath: context.kubeconfig });
  });
  afterEach(async () => {
    await context.api.close();
    rmSync(context.dir, { recursive: true, force: true });
  });
  return context;
}

export function namespaceObject(name = NAMESPACE): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

export function deploymentObject(name: string, options: { port?: number; replicas?: number; image?: string } = {}): KubeObject {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NAMESPACE, labels },
    spec: {
      replicas: options.replicas ?? 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name,
              image: options.image ?? `ecom/${name}:0123456789ab`,
              ports: [{ name: 'http', containerPort: options.port ?? 5001 }],
              readinessProbe: { httpGet: { path: '/health', port: 'http' } },
            },
          ],
        },
      },
    },
  };
}

export function serviceObject(name: string, port: number, targetPort: number | string = 'http'): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NAMESPACE, labels: { app: name } },
    spec: { selector: { app: name }, ports: [{ name: 'http', port, targetPort }] },
  };
}

export function statefulSetObject(name: string, port: number): KubeObject {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: NAMESPACE, labels },
    spec: {
      serviceName: name,
      replicas: 1,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name, image: `${name}:17-alpine`, ports: [{ containerPort: port }] }] } },
    },
  };
}

export function jobObject(name: string): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: NAMESPACE },
    spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name, image: 'ecom/catalog:0123456789ab', command: ['node', 'seed.js'] }] } } },
  };
}
