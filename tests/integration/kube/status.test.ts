import { describe, expect, it } from 'vitest';
import { applyObjects } from '../../../src/kube/apply.js';
import { formatHpaMetrics, readClusterStatus } from '../../../src/kube/status.js';
import { MANAGED_BY_SELECTOR, type KubeObject } from '../../../src/kube/types.js';
import { deploymentObject, jobObject, NAMESPACE, namespaceObject, statefulSetObject, useFakeCluster } from './setup.js';

const kube = useFakeCluster();

function hpaObject(target: string): KubeObject {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: target, namespace: NAMESPACE },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target },
      minReplicas: 2,
      maxReplicas: 5,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
    },
  };
}

async function settle(): Promise<void> {
  kube.api.cluster.flush();
  await new Promise((r) => setTimeout(r, 50));
  kube.api.cluster.flush();
}

describe('readClusterStatus', () => {
  it('reads ready/desired, restarts, pod phases and reasons, and HPA current/target', async () => {
    const why = '0/2 nodes are available: 2 Insufficient memory.';
    kube.api.scenario(NAMESPACE, 'postgres', { unschedulable: why }, 'StatefulSet');
    await applyObjects(kube.client, [namespaceObject(), deploymentObject('catalog', { replicas: 2 }), statefulSetObject('postgres', 5432), jobObject('seed'), hpaObject('catalog')]);
    await settle();
    const [healthy, crashing] = kube.api.pods(NAMESPACE, 'catalog') as [string, string];
    kube.api.pod(NAMESPACE, crashing).setContainer('catalog', { state: 'crash-loop', exitCode: 1, restarts: 3 });
    await settle();

    const before = await readClusterStatus(kube.client, { namespace: NAMESPACE, labelSelector: MANAGED_BY_SELECTOR });
    expect(formatHpaMetrics(before.hpas[0]!)).toBe('cpu: <unknown>/70%');

    kube.api.setStatus('autoscaling/v2', 'HorizontalPodAutoscaler', NAMESPACE, 'catalog', {
      currentReplicas: 2,
      desiredReplicas: 3,
      currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 82, averageValue: '41m' } } }],
    });
    const status = await readClusterStatus(kube.client, { namespace: NAMESPACE, labelSelector: MANAGED_BY_SELECTOR });

    const catalog = status.workloads.find((w) => w.name === 'catalog');
    expect(catalog).toMatchObject({ kind: 'Deployment', ready: 1, desired: 2, restarts: 3 });
    expect(catalog?.pods.map((p) => [p.name, p.phase, p.reason, p.ready, p.restarts]).sort()).toEqual(
      [
        [healthy, 'Running', 'Running', true, 0],
        [crashing, 'Running', 'CrashLoopBackOff', false, 3],
      ].sort(),
    );
    expect(status.workloads.find((w) => w.name === 'postgres')).toMatchObject({
      kind: 'StatefulSet',
      ready: 0,
      desired: 1,
      pods: [{ name: 'postgres-0', phase: 'Pending', reason: 'Unschedulable', ready: false, restarts: 0 }],
    });
    const seed = status.workloads.find((w) => w.name === 'seed');
    expect(seed).toMatchObject({ kind: 'Job', ready: 1, desired: 1 });
    expect(seed?.pods.map((p) => `${p.phase}/${p.reason}`)).toEqual(['Succeeded/Completed']);
    expect(status.hpas).toEqual([
      { namespace: NAMESPACE, name: 'catalog', target: 'Deployment/catalog', minReplicas: 2, maxReplicas: 5, currentReplicas: 2, desiredReplicas: 3, metrics: [{ name: 'cpu', current: 82, target: 70 }] },
    ]);
    expect(formatHpaMetrics(status.hpas[0]!)).toBe('cpu: 82%/70%');
  });

  it('only objects with ecom label are reported when asked so', async () => {
    await applyObjects(kube.client, [namespaceObject(), deploymentObject('catalog')]);
    await kube.client.apply(deploymentObject('theirs'));
    await settle();

    const status = await readClusterStatus(kube.client, { namespace: NAMESPACE, labelSelector: MANAGED_BY_SELECTOR });
    expect(status.workloads.map((w) => w.name)).toEqual(['catalog']);
  });
});
