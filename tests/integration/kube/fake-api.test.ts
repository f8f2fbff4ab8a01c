/**
 * The in-test API server answers in the real server's shapes where the client depends
 * on them: discovery, `…List` with metadata.resourceVersion, Status objects on errors,
 * server-side apply's rules, and newline-delimited watch events.
 */
import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeKubeApi, type FakeKubeApi } from '../../helpers/fake-kube-api/index.js';

let api: FakeKubeApi;
beforeEach(async () => {
  api = await startFakeKubeApi({ namespaces: ['ecom'] });
});
afterEach(() => api.close());

interface Answer {
  status: number;
  json: Record<string, unknown>;
}

function call(method: string, path: string, body?: string, contentType = 'application/apply-patch+yaml', token = api.token): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${api.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': contentType } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += String(c)));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const configMap = (data: Record<string, string>) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'ecom' }, data });
const APPLY = '/api/v1/namespaces/ecom/configmaps/settings';

describe('the fake API server speaks like the real one', () => {
  it('serves discovery for the core group, apps and the Istio groups', async () => {
    const core = await call('GET', '/api/v1');
    expect(core.json).toMatchObject({ kind: 'APIResourceList', groupVersion: 'v1' });
    expect((core.json.resources as Array<{ name: string }>).map((r) => r.name)).toEqual(expect.arrayContaining(['pods', 'pods/log', 'pods/portforward', 'events', 'services', 'secrets']));
    const groups = (await call('GET', '/apis')).json.groups as Array<{ name: string }>;
    expect(groups.map((g) => g.name)).toEqual(expect.arrayContaining(['apps', 'batch', 'autoscaling', 'networking.istio.io', 'security.istio.io']));
    const istio = await call('GET', '/apis/networking.istio.io/v1');
    expect((istio.json.resources as Array<{ kind: string; namespaced: boolean }>).find((r) => r.kind === 'VirtualService')).toMatchObject({ namespaced: true });
    expect((await call('GET', '/apis/nothing.example/v1')).status).toBe(404);
  });

  it('answers a list as a …List with a resourceVersion, and a missing object with a NotFound Status', async () => {
    const list = await call('GET', '/apis/apps/v1/namespaces/ecom/deployments');
    expect(list.status).toBe(200);
    expect(list.json).toMatchObject({ kind: 'DeploymentList', apiVersion: 'apps/v1', metadata: { resourceVersion: expect.stringMatching(/^\d+$/) }, items: [] });

    const missing = await call('GET', '/apis/apps/v1/namespaces/ecom/deployments/catalog');
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'deployments.apps "catalog" not found',
      reason: 'NotFound',
      details: { name: 'catalog', group: 'apps', kind: 'deployments' },
      code: 404,
    });
    expect((await call('GET', '/api/v1/namespaces/ecom/pods', undefined, undefined, 'wrong')).json).toMatchObject({ kind: 'Status', code: 401, reason: 'Unauthorized' });
  });

  it('applies only as server-side apply with a field manager, and refuses a field another applier owns unless forced', async () => {
    expect((await call('PATCH', `${APPLY}?fieldManager=ecom`, configMap({ a: '1' }), 'application/merge-patch+json')).status).toBe(415);
    expect((await call('PATCH', APPLY, configMap({ a: '1' }))).json).toMatchObject({ code: 422, reason: 'Invalid' });

    const created = await call('PATCH', `${APPLY}?fieldManager=ecom`, configMap({ a: '1' }));
    expect(created.status).toBe(201);
    const conflict = await call('PATCH', `${APPLY}?fieldManager=helm`, configMap({ a: '2' }));
    expect(conflict.json).toMatchObject({ code: 409, reason: 'Conflict', message: 'Apply failed with 1 conflict(s): conflict with "ecom": .data.a' });
    const forced = await call('PATCH', `${APPLY}?fieldManager=helm&force=true`, configMap({ a: '2' }));
    expect(forced.status).toBe(200);
    expect(forced.json).toMatchObject({ data: { a: '2' } });
    expect((forced.json.metadata as { managedFields: Array<{ manager: string }> }).managedFields.map((f) => f.manager)).toEqual(['helm']);
  });

  it('streams watch events as one JSON object per line, from a list resourceVersion', async () => {
    await call('PATCH', `${APPLY}?fieldManager=ecom`, configMap({ a: '1' }));
    const { resourceVersion } = (await call('GET', '/api/v1/namespaces/ecom/configmaps')).json.metadata as { resourceVersion: string };
    const lines: string[] = [];
    const watching = new Promise<void>((resolve) => {
      request(`${api.url}/api/v1/namespaces/ecom/configmaps?watch=true&resourceVersion=${resourceVersion}&timeoutSeconds=1`, { headers: { authorization: `Bearer ${api.token}` } }, (res) => {
        res.on('data', (c) => lines.push(...String(c).split('\n').filter(Boolean)));
        res.on('end', () => resolve());
      }).end();
    });
    await new Promise((r) => setTimeout(r, 100));
    await call('PATCH', `${APPLY}?fieldManager=ecom`, configMap({ a: '2' }));
    await call('DELETE', APPLY);
    await watching;

    const events = lines.map((l) => JSON.parse(l) as { type: string; object: { kind: string; data?: object; metadata: { resourceVersion: string } } });
    expect(events.map((e) => [e.type, e.object.kind, e.object.data])).toEqual([
      ['MODIFIED', 'ConfigMap', { a: '2' }],
      ['DELETED', 'ConfigMap', { a: '2' }],
    ]);
    expect(Number(events[1]!.object.metadata.resourceVersion)).toBeGreaterThan(Number(events[0]!.object.metadata.resourceVersion));
  });
});
