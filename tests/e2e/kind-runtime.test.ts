/**
 * `ecom up --runtime kind` end to end through the built CLI, with everything that can be
 * real here real: the Docker engine (builds, the ecom-registry container, pushes, the
 * kind network), the services' pods as containers pulled from that registry and run
 * from their rendered templates (tests/helpers/fake-kube-api/docker-pod-backend.ts),
 * PostgreSQL, RabbitMQ and Prometheus as real servers, started from the pods' own
 * environment and the chart's scrape configuration (tests/e2e/kind-harness*.ts). What
 * cannot run here: kind itself (a stand-in that makes the node containers and the kind
 * network on the real engine and points the kubeconfig at the in-test API server),
 * helm and istioctl (recording stand-ins; helm applies its release's Deployment and
 * Service), Istio's sidecars, Grafana (its pod is Ready with nothing behind it), and
 * Elasticsearch: search runs with SEARCH_BACKEND=postgres, the one setting of the
 * rendered manifests the harness overrides.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../../src/core/poll.js';
import { portHolder } from '../../src/core/processes.js';
import { SERVICE_NAMES, type ServiceName } from '../../src/core/system.js';
import { LOCAL_REGISTRY } from '../../src/manifests/local-registry.js';
import { CLUSTER_NAME, NODE_HOSTS_TOML } from '../../src/runtime/kind/steps.js';
import type { SystemStatus } from '../../src/runtime/types.js';
import type { ClusterTools } from '../helpers/cluster-tools/index.js';
import { docker } from '../helpers/docker.js';
import { findResource } from '../helpers/fake-kube-api/resources.js';
import { CLUSTER_FORWARD_PORTS as FORWARD_PORTS, reserveForwardOffset } from '../helpers/port-offset.js';
import { ecomRunning, kindEnv, kindTools, processesOf } from './kind-harness-cli.js';
import { kindNodes, OVERRIDE_NOTE, startKindHarness, untagRegistryImages, type KindHarness } from './kind-harness.js';
import { ecomWith, newHome, parseJson, portIsFree, type Run } from './helpers.js';

const UP_TIMEOUT = '20m';
const UP_LIMIT_MS = 22 * 60_000;
const COMMAND_LIMIT_MS = 120_000;
const REPLACE_LIMIT_MS = 120_000;
const DOWN_LIMIT_MS = 180_000;
const REGISTRY_PULL_FROM = `127.0.0.1:${LOCAL_REGISTRY.hostPort}`;

let harness: KindHarness | undefined;
let clusterGone: Promise<void> | undefined;
let tools: ClusterTools | undefined;
let home = '';
let offset = 0;
let env: NodeJS.ProcessEnv = {};
let upRan = false;

const ecom = (args: string[], limitMs = COMMAND_LIMIT_MS) => ecomWith(env, args, limitMs);
const show = (run: Run) => `exit ${run.code}\n--- stdout\n${run.stdout.slice(-6000)}\n--- stderr\n${run.stderr.slice(-6000)}`;
const deployedImage = (service: ServiceName): string => {
  const deployment = harness!.api.store.get(findResource('apps', 'v1', 'deployments')!, 'ecommerce', service) as unknown as { spec: { template: { spec: { containers: Array<{ image: string }> } } } };
  return deployment.spec.template.spec.containers[0]!.image;
};

/** What a failing step prints about the fake cluster: the backend's failures and the containers' last lines. */
async function clusterDiagnostics(): Promise<string> {
  if (!harness) return '';
  const lines = [...harness.backend.failures, ...(await harness.backend.relayRefusals().catch(() => []))];
  for (const service of SERVICE_NAMES) {
    for (const pod of harness.api.pods('ecommerce', service)) {
      for (const name of harness.backend.containerNames('ecommerce', pod)) {
        lines.push(`--- ${name}`, await docker(harness.dockerHost, ['logs', '--tail', '10', name], { withStderr: true }).catch((e: Error) => e.message));
      }
    }
  }
  return lines.join('\n');
}

async function status(): Promise<SystemStatus> {
  const run = await ecom(['status', '--json']);
  if (run.code !== 0) throw new Error(`ecom status --json: ${show(run)}`);
  return parseJson<SystemStatus>(run);
}

beforeAll(async () => {
  if (!(await portIsFree(LOCAL_REGISTRY.hostPort))) {
    throw new Error(`port ${LOCAL_REGISTRY.hostPort} on 127.0.0.1 is taken (${portHolder(LOCAL_REGISTRY.hostPort) ?? 'holder unknown'}); the kind runtime's registry container needs it`);
  }
  harness = await startKindHarness({ name: LOCAL_REGISTRY.host, pullFrom: REGISTRY_PULL_FROM });
  clusterGone = harness.followKindCluster(CLUSTER_NAME);
  clusterGone.catch(() => {});
  tools = kindTools(harness.api);
  home = newHome();
  offset = await reserveForwardOffset();
  env = kindEnv(tools, home, harness.dockerHost);
}, 120_000);

afterAll(async () => {
  // A failed test still leaves nothing: down first (forwarder, cluster, registry), then the harness itself.
  if (upRan && processesOf(home).length > 0) await ecom(['down', '--purge'], DOWN_LIMIT_MS).catch(() => undefined);
  const results = await Promise.allSettled([harness?.close()]);
  if (harness) {
    const host = harness.dockerHost;
    const nodes = (await docker(host, ['ps', '--all', '--quiet', '--filter', `label=io.x-k8s.kind.cluster=${CLUSTER_NAME}`, '--filter', 'label=ecom.test=kind-nodes']).catch(() => '')).split('\n').filter(Boolean);
    if (nodes.length > 0) await docker(host, ['rm', '--force', ...nodes]).catch(() => {});
    await docker(host, ['rm', '--force', '--volumes', LOCAL_REGISTRY.containerName]).catch(() => {});
    // The kind network is kind's (kind leaves it after delete); ours was made by the stand-in.
    const labels = await docker(host, ['network', 'inspect', '--format', '{{json .Labels}}', 'kind']).catch(() => '');
    if (labels.includes('kind-network')) await docker(host, ['network', 'rm', 'kind']).catch(() => {});
    const images = (await docker(host, ['images', '--format', '{{.Repository}}:{{.Tag}}', `${LOCAL_REGISTRY.host}/ecom/*`]).catch(() => '')).split('\n').filter(Boolean);
    await untagRegistryImages(host, images);
  }
  tools?.cleanup();
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}, DOWN_LIMIT_MS + 120_000);

describe(`ecom up --runtime kind through the built CLI (${OVERRIDE_NOTE})`, () => {
  it('up creates the cluster and registry, builds and pushes the images, applies the system whose pods run as containers, and returns with every service healthy', async () => {
    upRan = true;
    const up = await ecom(['up', '--runtime', 'kind', '--port-offset', String(offset), '--timeout', UP_TIMEOUT], UP_LIMIT_MS);
    expect(up.code, `${show(up)}\n${await clusterDiagnostics()}`).toBe(0);
    const lines = tools!.lines();
    expect(lines.some((l) => l.startsWith(`kind create cluster --name ${CLUSTER_NAME}`)), lines.join('\n')).toBe(true);
    expect(lines.some((l) => l.startsWith('istioctl install')), lines.join('\n')).toBe(true);
    expect(lines.filter((l) => l.startsWith('helm upgrade --install')).length, lines.join('\n')).toBeGreaterThanOrEqual(2);
    const host = harness!.dockerHost;
    // The registry container runs on the kind network, and every node pulls localhost:5050 from it.
    const networks = JSON.parse(await docker(host, ['container', 'inspect', '--format', '{{json .NetworkSettings.Networks}}', LOCAL_REGISTRY.containerName])) as Record<string, unknown>;
    expect(Object.keys(networks)).toContain('kind');
    for (const node of [`${CLUSTER_NAME}-control-plane`, `${CLUSTER_NAME}-worker`]) {
      expect(await docker(host, ['exec', node, 'cat', `/etc/containerd/certs.d/${LOCAL_REGISTRY.host}/hosts.toml`])).toBe(NODE_HOSTS_TOML);
    }
    for (const service of SERVICE_NAMES) {
      // What the Deployment names is in the registry (its own API), and a container of it runs the pod.
      const image = deployedImage(service);
      const [, tag] = image.split(`${LOCAL_REGISTRY.host}/ecom/${service}:`);
      const listed = (await (await fetch(`http://${REGISTRY_PULL_FROM}/v2/ecom/${service}/tags/list`)).json()) as { tags: string[] };
      expect(listed.tags, `${service} tags in the registry`).toContain(tag);
      const [pod] = harness!.api.pods('ecommerce', service);
      expect(harness!.backend.containerNames('ecommerce', pod!), `${service} pod ${pod} runs as a container`).toHaveLength(1);
    }
  }, UP_LIMIT_MS + 60_000);

  it('status shows every service ready 1/1 with its pod, healthy, and every service forward ready', async () => {
    const now = await status();
    expect(now.runtime).toBe('kind');
    for (const service of SERVICE_NAMES) {
      const row = now.services.find((s) => s.name === service)!;
      expect({ service, ready: row.ready, desired: row.desired, health: row.health }).toEqual({ service, ready: 1, desired: 1, health: 'ok' });
      const [pod] = harness!.api.pods('ecommerce', service);
      expect(row.detail.kind === 'pods' ? row.detail.pods.map((p) => p.name) : [], `${service} pods`).toEqual([pod]);
      const forward = now.forwards?.find((f) => f.name === service);
      expect({ service, state: forward?.state, pod: forward?.pod, port: forward?.localPort }).toEqual({ service, state: 'ready', pod, port: FORWARD_PORTS[SERVICE_NAMES.indexOf(service)]! + offset });
    }
  });

  it('a second up does nothing: no build, no push, no object changed, no pod replaced (seen from the engine, the registry and the cluster)', async () => {
    const host = harness!.dockerHost;
    const writes = async () =>
      (await docker(host, ['logs', LOCAL_REGISTRY.containerName], { withStderr: true })).split('\n').filter((l) => /"(PUT|POST|PATCH) \/v2\//.test(l));
    const images = async () => Promise.all(SERVICE_NAMES.map(async (s) => (await docker(host, ['image', 'inspect', '--format', '{{.Id}} {{.Created}}', deployedImage(s)])).trim()));
    const pods = () => SERVICE_NAMES.map((s) => harness!.api.pods('ecommerce', s).join(','));
    const installs = () => tools!.lines().filter((l) => /^(kind create|istioctl install|helm upgrade)/.test(l));
    const [writesBefore, imagesBefore, podsBefore, installsBefore, versionBefore] = [await writes(), await images(), pods(), installs(), harness!.api.store.version];
    const again = await ecom(['up', '--runtime', 'kind', '--json'], UP_LIMIT_MS);
    expect(again.code, show(again)).toBe(0);
    expect(parseJson<{ alreadyUp: boolean }>(again).alreadyUp).toBe(true);
    expect(await writes(), 'pushes the registry received').toEqual(writesBefore);
    expect(await images(), 'image IDs and creation times').toEqual(imagesBefore);
    expect(pods()).toEqual(podsBefore);
    expect(installs()).toEqual(installsBefore);
    // Objects may be read and applied again, but none changes (a workload's status may, as its controller writes it).
    const changed = harness!.api.store
      .changesSince(versionBefore)
      .filter((c) => !['Event', 'Pod'].includes(c.resource.kind))
      .filter((c) => !['Deployment', 'StatefulSet'].includes(c.resource.kind) || c.object.metadata.generation !== 1);
    expect(changed.map((c) => `${c.type} ${c.resource.kind} ${c.object.metadata.namespace}/${c.object.metadata.name}`)).toEqual([]);
  }, UP_LIMIT_MS + 60_000);

  it('smoke passes through the forwards with every check run, Prometheus included', async () => {
    const smoke = await ecom(['smoke', '--json', '--timeout', '120s'], 180_000);
    const report = parseJson<{ skipped: number; endpoints: { prometheus?: string }; checks: Array<{ name: string; status: string; message?: string }> }>(smoke);
    expect(report.checks.filter((r) => r.status !== 'passed'), `${show(smoke)}\n${await clusterDiagnostics()}`).toEqual([]);
    expect(report.skipped).toBe(0);
    expect(report.checks.find((r) => r.name === 'Prometheus reports every target up')).toMatchObject({ status: 'passed' });
    expect(report.endpoints.prometheus).toBe(`http://127.0.0.1:${9090 + offset}`);
    expect(smoke.code).toBe(0);
  }, 200_000);

  it('a pod replaced mid-run: the forward reconnects to the new pod, status shows it, and logs --follow says so and shows its lines', async () => {
    const before = await status();
    const reconnectsBefore = before.forwards!.find((f) => f.name === 'catalog')!.reconnects;
    const follow = ecomRunning(env, ['logs', 'catalog', '--follow']);
    try {
      const [old] = harness!.api.pods('ecommerce', 'catalog');
      // The follower shows the running pod's lines first, so the replacement happens while it follows.
      await pollUntil(() => (follow.output().includes(old!) ? true : undefined), { what: `logs --follow to show ${old}`, timeoutMs: 60_000, intervalMs: 250 }).catch((err: Error) => {
        throw new Error(`${err.message}; it printed:\n${follow.output()}`);
      });
      const replacement = harness!.api.replacePod('ecommerce', old!);
      const after = await pollUntil(
        async () => {
          const now = await status();
          const forward = now.forwards?.find((f) => f.name === 'catalog');
          const row = now.services.find((s) => s.name === 'catalog');
          return forward?.state === 'ready' && forward.pod === replacement && forward.reconnects > reconnectsBefore && row?.ready === 1 ? now : undefined;
        },
        { what: `status to show the catalog forward on ${replacement}`, timeoutMs: REPLACE_LIMIT_MS, intervalMs: 2_000 },
      );
      const row = after.services.find((s) => s.name === 'catalog')!;
      expect(row.detail.kind === 'pods' ? row.detail.pods.map((p) => p.name) : []).toEqual([replacement]);
      const health = await fetch(`http://127.0.0.1:${5001 + offset}/health`, { signal: AbortSignal.timeout(10_000) });
      expect(health.status).toBe(200);
      const newPodLine = (l: string) => l.includes(replacement) && l.includes('catalog listening');
      await pollUntil(() => (follow.output().split('\n').some(newPodLine) ? true : undefined), { what: `logs --follow to show ${replacement}'s lines`, timeoutMs: 60_000, intervalMs: 250 }).catch(
        (err: Error) => {
          throw new Error(`${err.message}; it printed:\n${follow.output()}`);
        },
      );
      // The stream says what happened: the old pod went, the new one replaced it.
      expect(follow.output(), follow.output()).toMatch(new RegExp(`pod ${old} is gone|now following pod ${replacement} \\(replaced ${old}\\)`));
    } finally {
      expect(await follow.stop()).toBe(0);
    }
  }, REPLACE_LIMIT_MS + 150_000);

  it('logs shows the service containers\' lines, each with its pod', async () => {
    const run = await ecom(['logs', 'order', '--tail', '50']);
    expect(run.code, show(run)).toBe(0);
    const [pod] = harness!.api.pods('ecommerce', 'order');
    expect(run.stdout.split('\n').some((l) => l.includes(pod!) && l.includes('order listening')), show(run)).toBe(true);
  });

  it('down --purge leaves nothing of ours: no process, no cluster and its pods, no registry, no network', async () => {
    const down = await ecom(['down', '--purge'], DOWN_LIMIT_MS);
    expect(down.code, show(down)).toBe(0);
    expect(tools!.lines().some((l) => l.startsWith(`kind delete cluster --name ${CLUSTER_NAME}`))).toBe(true);
    // kind deleted the node containers; the fake cluster goes with them (pods, servers, API server).
    await clusterGone;
    const host = harness!.dockerHost;
    expect(processesOf(home)).toEqual([]);
    expect(await kindNodes(host, CLUSTER_NAME)).toBe(0);
    expect((await docker(host, ['ps', '--all', '--quiet', '--filter', `label=ecom.test.run=${harness!.backend.runId}`])).trim()).toBe('');
    expect(await docker(host, ['container', 'inspect', LOCAL_REGISTRY.containerName]).catch((e: Error) => e.message)).toMatch(/No such (container|object)/);
    expect(await docker(host, ['network', 'inspect', harness!.backend.network]).catch((e: Error) => e.message)).toMatch(/No such network|not found/);
    // kind leaves its network after `delete cluster`; nothing of ours is attached to it.
    const attached = await docker(host, ['network', 'inspect', '--format', '{{json .Containers}}', 'kind']).catch(() => '{}');
    expect(JSON.parse(attached || '{}')).toEqual({});
    for (const port of FORWARD_PORTS) expect(await portIsFree(port + offset), `port ${port + offset}`).toBe(true);
    expect(existsSync(`${home}/cluster.json`)).toBe(false);
  }, DOWN_LIMIT_MS + 60_000);
});
