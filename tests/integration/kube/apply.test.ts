import { describe, expect, it } from 'vitest';
import { applyObjects, deleteManagedObjects } from '../../../src/kube/apply.js';
import type { KubeObject } from '../../../src/kube/types.js';
import { deploymentObject, NAMESPACE, namespaceObject, serviceObject, useFakeCluster } from './setup.js';

const kube = useFakeCluster();

function secretObject(): KubeObject {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'postgres', namespace: NAMESPACE }, type: 'Opaque', stringData: { password: 'from-the-test' } };
}

describe('server-side apply through the real client', () => {
  it('creates the objects in order, labelled as ecom and owned by field manager ecom', async () => {
    const objects = [namespaceObject(), secretObject(), deploymentObject('catalog'), serviceObject('catalog', 5001)];
    const results = await applyObjects(kube.client, objects);

    expect(results.map((r) => `${r.ref.kind}/${r.ref.name}:${r.outcome}`)).toEqual([
      'Namespace/ecom:created',
      'Secret/postgres:created',
      'Deployment/catalog:created',
      'Service/catalog:created',
    ]);
    const deployment = await kube.client.get({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'catalog', namespace: NAMESPACE });
    expect(deployment?.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'ecom', app: 'catalog' });
    expect(deployment?.metadata.managedFields?.map((f) => `${f.manager}:${f.operation}`)).toContain('ecom:Apply');
    // The request was a server-side apply, forced, by field manager ecom.
    expect(kube.api.requests).toContain('PATCH /apis/apps/v1/namespaces/ecom/deployments/catalog?fieldManager=ecom&force=true');
    // The server turned the Secret's stringData into data, as a real one does.
    const secret = await kube.client.get({ apiVersion: 'v1', kind: 'Secret', name: 'postgres', namespace: NAMESPACE });
    expect(secret?.data).toEqual({ password: Buffer.from('from-the-test').toString('base64') });
  });

  it('a second apply of the same objects changes nothing: same resourceVersion and generation', async () => {
    const objects = [namespaceObject(), deploymentObject('catalog'), serviceObject('catalog', 5001)];
    await applyObjects(kube.client, objects);
    const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'catalog', namespace: NAMESPACE };
    const first = await kube.client.get(ref);

    const again = await applyObjects(kube.client, objects);

    expect(again.map((r) => r.outcome)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    const second = await kube.client.get(ref);
    expect(second?.metadata.resourceVersion).toBe(first?.metadata.resourceVersion);
    expect(second?.metadata.generation).toBe(1);
    expect(second?.metadata.managedFields?.filter((f) => f.manager === 'ecom')).toHaveLength(1);
  });

  it('a changed object is configured: the spec change bumps the generation, a field no longer applied is removed', async () => {
    await applyObjects(kube.client, [namespaceObject(), deploymentObject('catalog', { image: 'ecom/catalog:aaaaaaaaaaaa' })]);
    const changed = deploymentObject('catalog', { image: 'ecom/catalog:bbbbbbbbbbbb' });
    const [, result] = await applyObjects(kube.client, [namespaceObject(), changed]);

    expect(result?.outcome).toBe('configured');
    const [deployment] = (await kube.client.list('deployments', { namespace: NAMESPACE })).items;
    expect(deployment?.metadata?.generation).toBe(2);
    expect(deployment?.spec?.template.spec?.containers[0]?.image).toBe('ecom/catalog:bbbbbbbbbbbb');

    const withoutLabel = deploymentObject('catalog', { image: 'ecom/catalog:bbbbbbbbbbbb' });
    withoutLabel.metadata.labels = {};
    await applyObjects(kube.client, [withoutLabel]);
    const relabelled = await kube.client.read('deployments', NAMESPACE, 'catalog');
    expect(relabelled?.metadata?.labels).toEqual({ 'app.kubernetes.io/managed-by': 'ecom' });
  });

  it('an object in a namespace that does not exist is refused with the server message', async () => {
    await expect(applyObjects(kube.client, [deploymentObject('catalog')])).rejects.toThrow(/cannot apply Deployment ecom\/catalog \(404\): namespaces "ecom" not found/);
  });

  it('deletes only objects labelled as ecom', async () => {
    await applyObjects(kube.client, [namespaceObject(), deploymentObject('catalog'), serviceObject('catalog', 5001)]);
    // An object someone else applied in the same namespace, without ecom's label.
    await kube.client.apply(deploymentObject('theirs'));

    const deleted = await deleteManagedObjects(kube.client, [
      { apiVersion: 'apps/v1', kind: 'Deployment' },
      { apiVersion: 'v1', kind: 'Service' },
    ]);

    expect(deleted.map((r) => `${r.kind}/${r.name}`)).toEqual(['Deployment/catalog', 'Service/catalog']);
    const left = await kube.client.listObjects('apps/v1', 'Deployment', { namespace: NAMESPACE });
    expect(left.map((o) => o.metadata.name)).toEqual(['theirs']);
    expect(await kube.client.delete({ apiVersion: 'v1', kind: 'Service', name: 'catalog', namespace: NAMESPACE })).toBe(false);
  });
});

describe('watching typed kinds through the real client', () => {
  it('a Deployment watch sees it created and its status written, as typed objects', async () => {
    await applyObjects(kube.client, [namespaceObject()]);
    const { resourceVersion } = await kube.client.list('deployments', { namespace: NAMESPACE });
    const seen: Array<{ type: string; ready?: number; created?: unknown }> = [];
    const ended: Array<Error | undefined> = [];
    const watch = await kube.client.watch('deployments', { namespace: NAMESPACE, resourceVersion }, {
      onEvent: (type, d) => seen.push({ type, ready: d.status?.readyReplicas, created: d.metadata?.creationTimestamp }),
      onEnd: (error) => ended.push(error),
    });
    await applyObjects(kube.client, [deploymentObject('catalog')]);
    const deadline = Date.now() + 5_000;
    while (!seen.some((e) => e.ready === 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    watch.stop();

    expect(seen[0]?.type).toBe('ADDED');
    expect(seen.at(-1)).toMatchObject({ type: 'MODIFIED', ready: 1 });
    expect(seen[0]?.created).toBeInstanceOf(Date);
    expect(ended).toEqual([]);
  });
});
