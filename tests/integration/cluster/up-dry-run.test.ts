/**
 * `ecom up --dry-run` through the CLI: offline, with no Docker engine and the stand-in
 * tools recording every call, it prints the whole plan (each command with its
 * arguments, each object in apply order) and runs nothing: no call, no state.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SERVICE_NAMES } from '../../../src/core/system.js';
import { imageTags } from '../../../src/images/tags.js';
import { objectId } from '../../../src/manifests/objects.js';
import { renderSystem } from '../../../src/manifests/render.js';
import type { PlannedStep, UpPlan } from '../../../src/runtime/types.js';
import { cleanEnv, ROOT, runCli } from '../../helpers/cli.js';
import { createClusterTools, type ClusterTools } from '../../helpers/cluster-tools/index.js';

const CLI_TIMEOUT_MS = 120_000;
let tools: ClusterTools;
let dir: string;

beforeEach(() => {
  tools = createClusterTools();
  dir = mkdtempSync(join(tmpdir(), 'ecom-dry-run-'));
});
afterEach(() => {
  tools.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** The CLI with only the stand-ins on PATH, no Docker engine and a state directory that must stay empty. */
function ecomUp(args: string[]) {
  const env = cleanEnv({ ...tools.env(), ECOM_HOME: join(dir, 'state'), KUBECONFIG: join(dir, 'no-kubeconfig'), CI: 'true' });
  return runCli(['up', '--dry-run', ...args], { source: true, env, cwd: dir, timeoutMs: CLI_TIMEOUT_MS });
}

const actionsOf = (step: PlannedStep | undefined) => step?.actions ?? [];

describe('ecom up --dry-run', () => {
  it('without Docker prints the kind plan, every command and object in order, and runs nothing', { timeout: CLI_TIMEOUT_MS }, async () => {
    const run = ecomUp([]);
    expect(run.stderr).toContain("no Docker engine answers; --dry-run shows the kind runtime's plan");
    expect(run.status).toBe(0);
    const kubeconfig = join(dir, 'state', 'kubeconfig');
    expect(run.stdout).toContain('plan of `ecom up --runtime kind` (nothing was run)');
    expect(run.stdout).toContain(`$ kind create cluster --name ecom --config ${ROOT}manifests/kind/cluster.yaml --kubeconfig ${kubeconfig}`);
    expect(run.stdout).toContain('$ docker run --detach --restart always --name ecom-registry --publish 127.0.0.1:5050:5000 registry:2');
    expect(run.stdout).toContain(`$ helm upgrade --install grafana grafana --repo https://grafana.github.io/helm-charts --version 9.2.7 --namespace monitoring --values ${ROOT}manifests/helm/grafana-values.yaml --kubeconfig ${kubeconfig} --kube-context kind-ecom`);
    expect(run.stdout).toMatch(/apply Namespace database\n +apply Namespace ecommerce\n/);
    expect(run.stdout).toContain("through the Istio gateway: curl -H 'Host: ecommerce.local' http://127.0.0.1:8080/");
    expect(tools.calls()).toEqual([]);
    expect(existsSync(join(dir, 'state'))).toBe(false);
  });

  it('--json gives the plan as data: the steps in order, commands as argv, objects in apply order', { timeout: CLI_TIMEOUT_MS }, async () => {
    const run = ecomUp(['--runtime', 'kind', '--json']);
    expect(run.status).toBe(0);
    const doc = JSON.parse(run.stdout) as { runtime: string; dryRun: boolean; plan: UpPlan };
    expect([doc.runtime, doc.dryRun]).toEqual(['kind', true]);
    const ids = doc.plan.steps.map((s) => s.id);
    expect(ids).toEqual([
      'prerequisites', 'cluster', 'kubeconfig', 'registry-container', 'registry-running', 'registry-network',
      'node-registry-ecom-control-plane', 'node-registry-ecom-worker', 'images', 'istio', 'namespaces-secrets',
      'helm-metrics-server', 'helm-prometheus', 'helm-grafana', 'objects', 'rollouts', 'forwards', 'health',
    ]);
    const tags = await imageTags(ROOT);
    const rendered = (await renderSystem({ root: ROOT, overlay: 'kind', tags, redact: true })).map(objectId);
    const applied = doc.plan.steps.flatMap((s) => s.actions.flatMap((a) => (a.kind === 'apply' ? a.objects : [])));
    // The namespaces and the generated Secrets first (the Helm releases read them), then the rest in apply order.
    const first = (id: string) => id.startsWith('Namespace ') || id.startsWith('Secret ');
    expect(applied).toEqual([...rendered.filter(first), ...rendered.filter((id) => !first(id))]);
    const cluster = doc.plan.steps.find((s) => s.id === 'cluster');
    expect(cluster?.check).toEqual({ describe: 'kind get clusters lists ecom', argv: ['kind', 'get', 'clusters'] });
    const pushes = actionsOf(doc.plan.steps.find((s) => s.id === 'images')).filter((a) => a.kind === 'command' && a.argv[1] === 'push');
    expect(pushes.map((a) => (a.kind === 'command' ? a.argv.join(' ') : ''))).toEqual(SERVICE_NAMES.map((s) => `docker push localhost:5050/ecom/${s}:${tags[s]}`));
    expect(tools.calls()).toEqual([]);
  });

  it('--context and --registry make it the context plan: images from that registry, no kind, no registry container', { timeout: CLI_TIMEOUT_MS }, async () => {
    const run = ecomUp(['--context', 'team-prod', '--registry', '127.0.0.1:5999/team', '--json']);
    expect(run.status).toBe(0);
    const { plan } = JSON.parse(run.stdout) as { plan: UpPlan };
    expect(plan.runtime).toBe('context');
    const argv = plan.steps.flatMap((s) => s.actions.flatMap((a) => (a.kind === 'command' ? [a.argv.join(' ')] : [])));
    expect(argv.filter((a) => /^kind |docker (run|network|exec)|metrics-server/.test(a))).toEqual([]);
    expect(argv).toContain(`docker push 127.0.0.1:5999/team/ecom/catalog:${(await imageTags(ROOT)).catalog}`);
    expect(argv.filter((a) => a.startsWith('helm upgrade')).every((a) => a.endsWith(`--kubeconfig ${join(dir, 'no-kubeconfig')} --kube-context team-prod`))).toBe(true);
    expect(tools.calls()).toEqual([]);
  });
});
