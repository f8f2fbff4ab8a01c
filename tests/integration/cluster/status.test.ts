/**
 * clusterStatus against the in-test API server: the real client reads the workloads,
 * pods and HPAs; /health is asked through the real forwarder process (built) to real
 * HTTP servers standing in for the pods; and `ecom status`'s table is rendered from it.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderStatus } from '../../../src/cli/commands/status.js';
import { DEFAULT_PORTS, SERVICE_NAMES, type Endpoints } from '../../../src/core/system.js';
import { startForwarder, stopForwarder, type ForwardSpec } from '../../../src/runtime/cluster/forwarder.js';
import { clusterStatus } from '../../../src/runtime/cluster/status.js';
import { ensureBuilt } from '../../helpers/build.js';
import { eventually } from '../../helpers/services.js';
import {
  applyAndRollOut,
  deploymentObject,
  freePort,
  hpaObject,
  namespaceObject,
  podServer,
  serviceObject,
  SERVICES_NS,
  statefulSetObject,
  useFakeCluster,
} from './setup.js';

const cluster = useFakeCluster();
beforeAll(() => ensureBuilt(), 180_000);

const NAMESPACES = [SERVICES_NS, 'database', 'messaging', 'logging', 'monitoring'];

/** The whole system as the manifests name it: four services (catalog with 2 replicas and an HPA), three StatefulSets, Prometheus and Grafana. */
async function deploySystem(): Promise<void> {
  for (const service of SERVICE_NAMES) cluster.api.scenario(SERVICES_NS, service, { ports: { [DEFAULT_PORTS[service]]: await podServer(cluster, service) } });
  await applyAndRollOut(cluster.client, [
    ...NAMESPACES.map(namespaceObject),
    ...SERVICE_NAMES.flatMap((s) => [deploymentObject(s, DEFAULT_PORTS[s], { replicas: s === 'catalog' ? 2 : 1 }), serviceObject(s, DEFAULT_PORTS[s])]),
    hpaObject('catalog', 2, 5),
    statefulSetObject('postgres', 'database', 5432),
    statefulSetObject('rabbitmq', 'messaging', 5672),
    statefulSetObject('elasticsearch', 'logging', 9200),
    deploymentObject('prometheus', 9090, { namespace: 'monitoring' }),
    deploymentObject('grafana', 3000, { namespace: 'monitoring' }),
  ]);
}

/** The real forwarder holding a forward per service; the endpoints it gives. */
async function forwardServices(): Promise<{ stateDir: string; endpoints: Endpoints }> {
  const stateDir = join(cluster.dir, 'state');
  const forwards: ForwardSpec[] = [];
  for (const s of SERVICE_NAMES) forwards.push({ name: s, namespace: SERVICES_NS, service: `${s}-service`, port: DEFAULT_PORTS[s], localPort: await freePort() });
  cluster.cleanups.push(async () => void (await stopForwarder(stateDir)));
  await startForwarder({ stateDir, kubeconfigPath: cluster.kubeconfig, forwards });
  const services = Object.fromEntries(forwards.map((f) => [f.name, `http://127.0.0.1:${f.localPort}`])) as Endpoints['services'];
  return { stateDir, endpoints: { services } };
}

describe('clusterStatus', () => {
  it('a healthy system: ready/desired, pods, HPA current/target, health through the forwards, dependencies, forward states', async () => {
    await deploySystem();
    const { stateDir, endpoints } = await forwardServices();
    cluster.api.setStatus('autoscaling/v2', 'HorizontalPodAutoscaler', SERVICES_NS, 'catalog', {
      currentReplicas: 2,
      desiredReplicas: 3,
      currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 82 } } }],
    });
    const pods = cluster.api.pods(SERVICES_NS, 'catalog');

    const status = await eventually(async () => {
      const s = await clusterStatus(cluster.client, { runtime: 'kind', endpoints, stateDir });
      return s.forwards?.every((f) => f.state === 'ready') && s.services.every((x) => x.health === 'ok') ? s : undefined;
    }, 15_000, 'every forward ready and every service healthy');

    expect(status).toMatchObject({ runtime: 'kind', running: true, endpoints });
    const catalog = status.services.find((s) => s.name === 'catalog')!;
    expect(catalog).toEqual({
      name: 'catalog',
      state: 'running',
      ready: 2,
      desired: 2,
      restarts: 0,
      health: 'ok',
      url: endpoints.services.catalog,
      detail: {
        kind: 'pods',
        pods: expect.arrayContaining(pods.map((name) => ({ name, phase: 'Running', ready: true, restarts: 0 }))),
        autoscaler: { minReplicas: 2, maxReplicas: 5, currentReplicas: 2, desiredReplicas: 3, metrics: 'cpu: 82%/70%' },
      },
    });
    expect(status.services.map((s) => [s.name, s.state, `${s.ready}/${s.desired}`, s.health])).toEqual(
      SERVICE_NAMES.map((s) => [s, 'running', s === 'catalog' ? '2/2' : '1/1', 'ok']),
    );
    expect(status.dependencies.map((d) => [d.name, d.state, d.detail])).toEqual([
      ['postgres', 'running', 'StatefulSet database/postgres: 1/1 ready'],
      ['rabbitmq', 'running', 'StatefulSet messaging/rabbitmq: 1/1 ready'],
      ['elasticsearch', 'running', 'StatefulSet logging/elasticsearch: 1/1 ready'],
      ['prometheus', 'running', 'Deployment monitoring/prometheus: 1/1 ready'],
      ['grafana', 'running', 'Deployment monitoring/grafana: 1/1 ready'],
    ]);
    expect(status.forwards?.map((f) => [f.name, f.state, f.reconnects, f.pod?.startsWith(`${f.name}-`)])).toEqual(SERVICE_NAMES.map((s) => [s, 'ready', 0, true]));

    const table = renderStatus(status).split('\n');
    expect(table[0]).toBe('runtime: kind');
    // The DETAIL wraps under itself at 80 columns; the URLs are listed once, below the tables.
    expect(table.find((l) => l.includes(' catalog '))).toMatch(/^ {2}catalog +running +2\/2 +ok +0 +catalog-\S+ Running;/);
    expect(table.join(' ').replace(/ +/g, ' ')).toMatch(/catalog-\S+ Running; catalog-\S+ Running; hpa current 2, target 3 \(min 2, max 5; cpu: 82%\/70%\)/);
    expect(table).toContain('  DEPENDENCY     STATE    DETAIL');
    const forwardHeader = table.findIndex((l) => l.startsWith('  FORWARD'));
    expect(table[forwardHeader]).toMatch(/^ {2}FORWARD +LOCAL +STATE +RECONNECTS +DETAIL$/);
    expect(table[forwardHeader + 1]).toMatch(/^ {2}catalog +127\.0\.0\.1:\d+ +ready +0 +pod catalog-\S+$/);
  });

  it('a pod in CrashLoopBackOff shows with its reason and restarts, an unschedulable dependency with the scheduler reason, and the forward backing off', async () => {
    await deploySystem();
    const { stateDir, endpoints } = await forwardServices();
    const [pod] = cluster.api.pods(SERVICES_NS, 'order');
    cluster.api.pod(SERVICES_NS, pod!).setContainer('order', { state: 'crash-loop', exitCode: 1, restarts: 4 });
    cluster.api.scenario('database', 'postgres', { unschedulable: '0/2 nodes are available: 2 Insufficient memory.' }, 'StatefulSet');
    // The StatefulSet's controller makes postgres-0 again, now unschedulable.
    await cluster.client.delete({ apiVersion: 'v1', kind: 'Pod', name: 'postgres-0', namespace: 'database' });

    const status = await eventually(async () => {
      const s = await clusterStatus(cluster.client, { runtime: 'kind', endpoints, stateDir });
      return s.forwards?.find((f) => f.name === 'order')?.state === 'backoff' && s.dependencies[0]?.state === 'starting' ? s : undefined;
    }, 15_000, 'the order forward to back off and postgres to be pending');

    const order = status.services.find((s) => s.name === 'order')!;
    expect(order).toMatchObject({ state: 'restarting', ready: 0, desired: 1, restarts: 4, health: 'unreachable' });
    expect(order.detail).toEqual({ kind: 'pods', pods: [{ name: pod, phase: 'Running', ready: false, restarts: 4, reason: 'CrashLoopBackOff' }] });
    expect(status.dependencies[0]).toEqual({ name: 'postgres', state: 'starting', detail: 'StatefulSet database/postgres: 0/1 ready (postgres-0 Unschedulable)' });
    const forward = status.forwards!.find((f) => f.name === 'order')!;
    expect(forward.lastError).toBe(`no ready pod behind service ecommerce/order-service (${pod}: CrashLoopBackOff)`);

    const table = renderStatus(status).split('\n');
    expect(table.find((l) => l.startsWith('  order '))).toMatch(new RegExp(`^ {2}order +restarting +0/1 +unreachable +4 +${pod}`));
    expect(table.join(' ').replace(/ +/g, ' ')).toContain(`${pod} CrashLoopBackOff (not ready), 4 restarts`);
    expect(table.find((l) => l.startsWith('  order ') && l.includes('backoff'))).toMatch(/^ {2}order +127\.0\.0\.1:\d+ +backoff +0 +no ready pod behind/);
    expect(table.join(' ').replace(/ +/g, ' ')).toContain('no ready pod behind service ecommerce/order-service');
  });

  it('nothing deployed and no forwarder: not running', async () => {
    const status = await clusterStatus(cluster.client, { runtime: 'context', stateDir: join(cluster.dir, 'state') });
    expect(status).toEqual({ runtime: 'context', running: false, services: [], dependencies: [] });
  });
});
