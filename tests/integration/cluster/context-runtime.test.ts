/**
 * The context runtime against the in-test API server under a context that is not
 * local: refused without --yes where nobody can be asked (CI), --registry named by
 * every service image it applies, nothing of kind, and a down that deletes only what
 * carries ecom's label and only the namespaces ecom created.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVICE_NAMES } from '../../../src/core/system.js';
import { imageTags } from '../../../src/images/tags.js';
import { ContextRuntime } from '../../../src/runtime/context/runtime.js';
import { cleanEnv, ROOT, runCli } from '../../helpers/cli.js';
import { findResource } from '../../helpers/fake-kube-api/resources.js';
import type { StoredObject } from '../../helpers/fake-kube-api/store.js';
import { changingCalls, useRuntimeFixture, type RuntimeTestContext } from './runtime-setup.js';

const UP_TIMEOUT_MS = 90_000;
const TEST_TIMEOUT_MS = 180_000;
const CONTEXT = 'team-prod';
const REGISTRY = '127.0.0.1:5999/team';
// `monitoring` is the team's own: ecom applies into it but did not create it.
const fixture = useRuntimeFixture({ namespaces: ['monitoring'] });

function kubeconfig(ctx: RuntimeTestContext): string {
  return ctx.api.writeKubeconfig(join(ctx.dir, 'kubeconfig'), { context: CONTEXT });
}

function contextRuntime(ctx: RuntimeTestContext): ContextRuntime {
  const env = { ...ctx.runner.env, KUBECONFIG: kubeconfig(ctx) };
  return new ContextRuntime(
    { stateDir: ctx.stateDir, env, contextRegistry: REGISTRY, contextAssumeYes: true },
    { tools: ctx.runner, fetch: ctx.tools.registryFetch },
  );
}

const resource = (group: string, version: string, name: string) => findResource(group, version, name)!;
const images = (o: StoredObject) => ((o.spec as { template: { spec: { containers: Array<{ image: string }> } } }).template.spec.containers).map((c) => c.image);

describe('context runtime', () => {
  it('refuses a cluster that is not local without --yes where nobody can be asked (CI), exit 2, before anything runs', { timeout: TEST_TIMEOUT_MS }, () => {
    const ctx = fixture;
    const env = cleanEnv({ ...ctx.tools.env(), KUBECONFIG: kubeconfig(ctx), ECOM_HOME: ctx.stateDir, CI: 'true' });
    const refused = runCli(['up', '--context', CONTEXT, '--registry', REGISTRY], { source: true, env, cwd: ctx.dir, timeoutMs: TEST_TIMEOUT_MS });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(`error: context "${CONTEXT}" is not a local cluster, and there is no terminal to ask on`);
    expect(refused.stderr).toContain(`hint: rerun with --yes to change context "${CONTEXT}", or pick a local one with --context`);
    const unnamed = runCli(['up', '--runtime', 'context', '--context', CONTEXT], { source: true, env, cwd: ctx.dir, timeoutMs: TEST_TIMEOUT_MS });
    expect(unnamed.status).toBe(2);
    expect(unnamed.stderr).toContain('error: the context runtime needs the registry its images are pushed to');
    expect(ctx.tools.calls()).toEqual([]);
    expect(ctx.api.requests.filter((r) => !r.startsWith('GET'))).toEqual([]);
  });

  it('with --yes builds for --registry, applies every service image from it, and down leaves what is not ecom’s', { timeout: TEST_TIMEOUT_MS }, async () => {
    const ctx = fixture;
    const tags = await imageTags(ROOT);
    const result = await contextRuntime(ctx).up({ timeoutMs: UP_TIMEOUT_MS, portOffset: ctx.portOffset, progress: ctx.progress });
    expect(result.alreadyUp).toBe(false);

    const ours = SERVICE_NAMES.map((s) => `${REGISTRY}/ecom/${s}:${tags[s]}`);
    expect(ctx.tools.pushed().sort()).toEqual([...ours].sort());
    const workloads = [...ctx.api.store.list(resource('apps', 'v1', 'deployments')), ...ctx.api.store.list(resource('apps', 'v1', 'statefulsets'))];
    const ecomImages = workloads.flatMap(images).filter((image) => /(^|\/)ecom\//.test(image));
    expect(ecomImages.sort()).toEqual([...ours].sort());
    const changed = changingCalls(ctx.tools.lines());
    expect(changed.filter((l) => /^kind |^docker (run|start|network|exec)|metrics-server/.test(l))).toEqual([]);
    expect(changed.filter((l) => l.startsWith('helm upgrade')).every((l) => l.includes(`--kube-context ${CONTEXT}`))).toBe(true);

    // What is not ecom's: an unlabelled ConfigMap beside ecom's objects.
    const client = await (await import('../../../src/kube/connect.js')).connectKube({ kubeconfigPath: kubeconfig(ctx), context: CONTEXT });
    await client.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'team-settings', namespace: 'ecommerce' }, data: { owner: 'team' } });
    ctx.tools.clearCalls();
    const down = await contextRuntime(ctx).down({ purge: false, progress: ctx.progress });
    expect(down.stopped).toEqual(['port-forwards', 'helm release monitoring/grafana', 'helm release monitoring/prometheus', expect.stringMatching(/^\d+ objects$/)]);
    const labelled = (group: string, version: string, name: string) =>
      ctx.api.store.list(resource(group, version, name)).filter((o) => o.metadata.labels?.['app.kubernetes.io/managed-by'] === 'ecom');
    for (const [group, version, name] of [['apps', 'v1', 'deployments'], ['apps', 'v1', 'statefulsets'], ['', 'v1', 'configmaps'], ['', 'v1', 'secrets'], ['security.istio.io', 'v1', 'authorizationpolicies']] as const) {
      expect(labelled(group, version, name), `${name} labelled as ecom's remain`).toEqual([]);
    }
    expect(await client.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'team-settings', namespace: 'ecommerce' })).toBeDefined();
    expect(changingCalls(ctx.tools.lines()).filter((l) => /^kind /.test(l))).toEqual([]);

    // --purge: the namespaces ecom created go, the team's own `monitoring` stays.
    await contextRuntime(ctx).down({ purge: true, progress: ctx.progress });
    const namespaces = ctx.api.store.list(resource('', 'v1', 'namespaces')).map((n) => n.metadata.name);
    expect(namespaces).toContain('monitoring');
    expect(namespaces.filter((n) => ['ecommerce', 'database', 'messaging', 'logging'].includes(n))).toEqual([]);
  });
});
