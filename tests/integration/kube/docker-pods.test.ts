/**
 * The rendered kind overlay applied to the in-test API server whose pods are real
 * containers (tests/helpers/fake-kube-api/docker-pod-backend.ts): the four images built
 * by src/images and pushed to a registry container, each service pod run from its
 * Deployment's template with Docker, PostgreSQL and RabbitMQ played by real servers
 * started with the Secrets' credentials. Elasticsearch cannot run here: its pod is
 * Ready without a server, and search runs with SEARCH_BACKEND=postgres - the only
 * setting of the rendered manifests this test overrides (tests/e2e/kind-harness.ts).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_NAMES, DEFAULT_PORTS, type ServiceName } from '../../../src/core/system.js';
import { TimeoutError } from '../../../src/core/errors.js';
import { pollUntil } from '../../../src/core/poll.js';
import { buildImages } from '../../../src/images/build.js';
import { applyObjects } from '../../../src/kube/apply.js';
import { connectKube } from '../../../src/kube/connect.js';
import { ServiceForward } from '../../../src/kube/port-forward.js';
import { waitForRollouts } from '../../../src/kube/rollout.js';
import type { KubeClient } from '../../../src/kube/types.js';
import { resolveContainerEnv } from '../../../src/manifests/container-env.js';
import { LOCAL_REGISTRY } from '../../../src/manifests/local-registry.js';
import type { KubeObject } from '../../../src/manifests/objects.js';
import { renderSystem } from '../../../src/manifests/render.js';
import { generateClusterSecrets } from '../../../src/manifests/secrets.js';
import { ToolRunner } from '../../../src/tools/tool-runner.js';
import { ROOT } from '../../helpers/cli.js';
import { docker, requireTestDocker } from '../../helpers/docker.js';
import { inspectContainer } from '../../helpers/fake-kube-api/docker-pod-container.js';
import { ENV_OVERRIDES, OVERRIDE_NOTE, startKindHarness, startTestRegistry, untagRegistryImages, type KindHarness } from '../../e2e/kind-harness.js';
import { freePort } from '../../e2e/kind-harness-infra.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BUILD_TIMEOUT_MS = 20 * 60_000;
const ROLLOUT_TIMEOUT_MS = 4 * 60_000;
const FORWARD_TIMEOUT_MS = 30_000;
const REPLACE_TIMEOUT_MS = 90_000;
const HEALTHY_WITHIN_MS = 20_000;

let dockerHost = '';
let registry: { container: string; address: string } | undefined;
let harness: KindHarness | undefined;
let client: KubeClient;
let objects: KubeObject[] = [];
let pushed: string[] = [];
let tags: Record<ServiceName, string>;
const forwards: ServiceForward[] = [];
const dir = mkdtempSync(join(tmpdir(), 'ecom-docker-pods-'));

/** What a failing step prints: the backend's failures, refused relays, and each container's last lines. */
async function diagnostics(): Promise<string> {
  if (!harness) return '';
  const lines = [...harness.backend.failures, ...(await harness.backend.relayRefusals())];
  for (const service of SERVICE_NAMES) {
    for (const pod of harness.api.pods('ecommerce', service)) {
      for (const name of harness.backend.containerNames('ecommerce', pod)) {
        lines.push(`--- ${name}`, await docker(dockerHost, ['logs', '--tail', '15', name], { withStderr: true }).catch((e: Error) => e.message));
      }
    }
  }
  return lines.join('\n');
}

async function forwardTo(service: ServiceName): Promise<ServiceForward> {
  const forward = new ServiceForward(client, { namespace: 'ecommerce', service: `${service}-service`, servicePort: DEFAULT_PORTS[service], localPort: await freePort() });
  forwards.push(forward);
  await forward.start();
  await forward.waitUntilReady(FORWARD_TIMEOUT_MS);
  return forward;
}

interface Health {
  code: number;
  status: string;
  body: string;
}

/** GET /health through the forward: its status code and what the service says of its dependencies. */
async function healthThrough(forward: ServiceForward): Promise<Health> {
  const response = await fetch(`http://127.0.0.1:${forward.status().localPort}/health`, { signal: AbortSignal.timeout(10_000) });
  const body = await response.text();
  return { code: response.status, status: (JSON.parse(body) as { status: string }).status, body };
}

/** /health until it says ok, or the last answer once `timeoutMs` has passed. */
async function healthWithin(forward: ServiceForward, timeoutMs: number): Promise<Health> {
  let last: Health | undefined;
  const ok = async () => {
    last = await healthThrough(forward);
    return last.status === 'ok' ? last : undefined;
  };
  return pollUntil(ok, { what: 'the service to say ok', timeoutMs, intervalMs: 500 }).catch((err: unknown) => {
    if (err instanceof TimeoutError && last) return last;
    throw err;
  });
}

function deploymentOf(service: ServiceName): KubeObject {
  return objects.find((o) => o.kind === 'Deployment' && o.metadata.name === service)!;
}

beforeAll(async () => {
  dockerHost = await requireTestDocker();
  registry = await startTestRegistry(dockerHost);
  const built = await buildImages({
    root: ROOT,
    services: SERVICE_NAMES,
    registry: registry.address,
    push: true,
    tools: new ToolRunner({ env: { ...process.env, DOCKER_HOST: dockerHost } }),
  });
  pushed = built.images.map((i) => i.reference);
  // The tags the images were built with: the tree may change while the tests run.
  tags = Object.fromEntries(built.images.map((i) => [i.service, i.tag])) as Record<ServiceName, string>;
  harness = await startKindHarness({ name: LOCAL_REGISTRY.host, pullFrom: registry.address });
  client = await connectKube({ kubeconfigPath: harness.writeKubeconfig(join(dir, 'kubeconfig')) });
  objects = await renderSystem({ root: ROOT, overlay: 'kind', tags, secrets: generateClusterSecrets(), redact: false });
  await applyObjects(client, objects);
  const rollout = await waitForRollouts(client, objects, { timeoutMs: ROLLOUT_TIMEOUT_MS });
  if (rollout.outcome !== 'ready') throw new Error(`rollout did not finish: ${JSON.stringify(rollout)}\n${await diagnostics()}`);
}, BUILD_TIMEOUT_MS + ROLLOUT_TIMEOUT_MS);

afterAll(async () => {
  for (const forward of forwards) await forward.stop();
  const results = await Promise.allSettled([harness?.close()]);
  if (registry) await docker(dockerHost, ['rm', '--force', '--volumes', registry.container]).catch(() => {});
  await untagRegistryImages(dockerHost, pushed);
  rmSync(dir, { recursive: true, force: true });
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}, 120_000);

describe(`the rendered kind system with its pods as containers (${OVERRIDE_NOTE})`, () => {
  it('every service pod is a running container, Ready, answering 200 on /health through a port-forward', async () => {
    for (const service of SERVICE_NAMES) {
      const [pod, ...more] = harness!.api.pods('ecommerce', service);
      expect(more, `${service} pods`).toEqual([]);
      const [container] = harness!.backend.containerNames('ecommerce', pod!);
      expect((await inspectContainer(dockerHost, container!))?.State.Running, `${container} running`).toBe(true);
      const forward = await forwardTo(service);
      // ok, not degraded: every dependency answers - PostgreSQL and RabbitMQ through the relays, the
      // frontend's upstreams through the Services' names.
      // A non-critical dependency may still be connecting when the pod turns Ready (the broker link
      // retries every 2 s, a handshake for at most 10 s): wait that long for "ok", no longer.
      const health = await healthWithin(forward, HEALTHY_WITHIN_MS);
      expect({ service, code: health.code, status: health.status }, `${health.body}\n${await diagnostics()}`).toEqual({ service, code: 200, status: 'ok' });
    }
  }, SERVICE_NAMES.length * (FORWARD_TIMEOUT_MS + HEALTHY_WITHIN_MS));

  it('runs each container as its Deployment says: pulled from the registry, its user, read-only root, no capabilities, tmpfs, the resolved environment', async () => {
    for (const service of SERVICE_NAMES) {
      const [pod] = harness!.api.pods('ecommerce', service);
      const [name] = harness!.backend.containerNames('ecommerce', pod!);
      const [inspected] = JSON.parse(await docker(dockerHost, ['inspect', name!])) as Array<{
        Config: { User: string; Image: string; Env: string[] };
        HostConfig: { ReadonlyRootfs: boolean; CapDrop: string[]; SecurityOpt: string[]; Tmpfs: Record<string, string> };
        State: { Pid: number };
      }>;
      expect(inspected!.Config.Image).toBe(`${registry!.address}/ecom/${service}:${tags[service]}`);
      expect(inspected!.Config.User).toBe('10001:10001');
      expect(readFileSync(`/proc/${inspected!.State.Pid}/status`, 'utf8')).toMatch(/^Uid:\s+10001\s/m);
      expect(inspected!.HostConfig.ReadonlyRootfs).toBe(true);
      expect(inspected!.HostConfig.CapDrop).toEqual(['ALL']);
      expect(inspected!.HostConfig.SecurityOpt).toEqual(['no-new-privileges']);
      expect(Object.keys(inspected!.HostConfig.Tmpfs)).toEqual(['/tmp']);
      const env = Object.fromEntries(inspected!.Config.Env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
      const wanted = { ...resolveContainerEnv(deploymentOf(service), objects), ...ENV_OVERRIDES[`Deployment/ecommerce/${service}`] };
      expect(env).toMatchObject(wanted);
      if (service !== 'frontend') expect(env.DATABASE_URL).toMatch(/@postgres-postgresql\.database\.svc\.cluster\.local:5432\/ecom$/);
    }
    expect(resolveContainerEnv(deploymentOf('search'), objects).SEARCH_BACKEND, 'the manifest asks for Elasticsearch').toBe('elasticsearch');
  });

  it('a deleted pod is replaced by a new container, the old one is removed, and the forward reaches the new pod', async () => {
    const forward = forwards.find((f) => f.status().service === 'order-service') ?? (await forwardTo('order'));
    const [old] = harness!.api.pods('ecommerce', 'order');
    const [oldContainer] = harness!.backend.containerNames('ecommerce', old!);
    await client.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'ecommerce', name: old! });
    const replacement = await pollUntil(
      () => harness!.api.pods('ecommerce', 'order').find((p) => p !== old && harness!.backend.containerNames('ecommerce', p).length > 0),
      { what: 'a replacement order pod with a container', timeoutMs: REPLACE_TIMEOUT_MS, intervalMs: 200 },
    );
    await pollUntil(async () => ((await inspectContainer(dockerHost, oldContainer!)) === undefined ? true : undefined), {
      what: `container ${oldContainer} to be removed`,
      timeoutMs: REPLACE_TIMEOUT_MS,
      intervalMs: 500,
    });
    await pollUntil(() => (forward.status().state === 'ready' && forward.status().pod === replacement ? true : undefined), {
      what: `the order forward to reach ${replacement}`,
      timeoutMs: REPLACE_TIMEOUT_MS,
      intervalMs: 200,
    });
    expect(forward.status().reconnects).toBeGreaterThanOrEqual(1);
    expect((await healthThrough(forward)).code).toBe(200);
    const [newContainer] = harness!.backend.containerNames('ecommerce', replacement);
    expect(newContainer).not.toBe(oldContainer);
    expect((await inspectContainer(dockerHost, newContainer!))?.State.Running).toBe(true);
  });

  it('Prometheus with the chart\'s scrape configuration, its targets discovered from the API server\'s pods, scrapes every service pod at its pod IP', async () => {
    // What the helm stand-in applies for the release (tests/helpers/cluster-tools/tools.mjs).
    const labels = { 'app.kubernetes.io/name': 'prometheus', 'app.kubernetes.io/managed-by': 'Helm' };
    const release: KubeObject[] = [
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'prometheus', namespace: 'monitoring', labels },
        spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'prometheus', image: 'prometheus:stand-in', ports: [{ containerPort: 9090 }] }] } } },
      },
    ];
    await applyObjects(client, release);
    const rollout = await waitForRollouts(client, release, { timeoutMs: 60_000 });
    expect(rollout.outcome, JSON.stringify(rollout)).toBe('ready');
    const podIPs = new Map<string, string>();
    for (const service of SERVICE_NAMES) {
      const [pod] = harness!.api.pods('ecommerce', service);
      const found = (await client.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'ecommerce', name: pod! })) as { status?: { podIP?: string } } | undefined;
      podIPs.set(service, found!.status!.podIP!);
    }
    // The chart scrapes once a minute: the first scrape of a new target comes within one interval.
    const targets = await pollUntil(
      async () => {
        const answer = (await (await fetch(`${harness!.prometheus.url}/api/v1/targets?state=active`)).json()) as {
          data: { activeTargets: Array<{ labels: Record<string, string>; health: string; scrapeUrl: string }> };
        };
        const up = answer.data.activeTargets.filter((t) => t.labels.job === 'ecom-services' && t.health === 'up');
        return SERVICE_NAMES.every((s) => up.some((t) => t.labels.service === s)) ? up : undefined;
      },
      { what: 'Prometheus to scrape every service', timeoutMs: 120_000, intervalMs: 1_000 },
    );
    for (const service of SERVICE_NAMES) {
      const target = targets.find((t) => t.labels.service === service)!;
      expect(target.scrapeUrl).toBe(`http://${podIPs.get(service)}:${DEFAULT_PORTS[service]}/metrics`);
    }
  }, 180_000);
});
