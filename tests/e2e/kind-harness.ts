/**
 * The fake kind cluster of the cluster tests: the in-test API server whose service pods
 * are real containers on the test Docker engine (DockerPodBackend), whose PostgreSQL
 * and RabbitMQ StatefulSets are played by real servers started from the pods' own
 * environment (kind-harness-infra.ts), and whose Elasticsearch pod is Ready without a
 * server: Elasticsearch cannot run here, so search's SEARCH_BACKEND=elasticsearch is
 * overridden to postgres - the one setting of the rendered manifests the harness
 * changes. `close()` removes every container, network and server it started.
 */
import { randomBytes } from 'node:crypto';
import { docker, dockerApi, requireBaseImages, requireTestDocker } from '../helpers/docker.js';
import { DockerPodBackend, type DockerPodBackendOptions } from '../helpers/fake-kube-api/docker-pod-backend.js';
import { startFakeKubeApi, type FakeKubeApi } from '../helpers/fake-kube-api/index.js';
import { pollUntil } from '../../src/core/poll.js';
import { freePort, PostgresPlayer, RabbitPlayer } from './kind-harness-infra.js';
import { PrometheusPlayer } from './kind-harness-prometheus.js';

/** What the harness changes in the rendered system, and why (the tests print it). */
export const ENV_OVERRIDES: Record<string, Record<string, string>> = {
  // Elasticsearch 9 cannot run here; search's own PostgreSQL full-text backend answers instead.
  'Deployment/ecommerce/search': { SEARCH_BACKEND: 'postgres' },
};
export const OVERRIDE_NOTE = 'Elasticsearch cannot run here: its pod is Ready without a server, and search runs with SEARCH_BACKEND=postgres (the only setting of the rendered manifests overridden)';

const REGISTRY_START_TIMEOUT_MS = 30_000;

export interface KindHarness {
  dockerHost: string;
  api: FakeKubeApi;
  backend: DockerPodBackend;
  postgres: PostgresPlayer;
  rabbit: RabbitPlayer;
  prometheus: PrometheusPlayer;
  /** Writes a kubeconfig for the API server (context name as given). */
  writeKubeconfig(path: string, context?: string): string;
  /**
   * Ties the fake cluster to the kind cluster's node containers (the kind stand-in
   * makes them): once they existed and are gone (`kind delete cluster`), the cluster
   * goes too - its pods' containers, its servers, its API server. Resolves then.
   */
  followKindCluster(name: string): Promise<void>;
  /** Deletes the fake cluster (idempotent); every step runs even when one fails. */
  close(): Promise<void>;
}

const NODE_POLL_MS = 1_000;
/** Longer than any test runs. */
const FOLLOW_LIMIT_MS = 6 * 3_600_000;

export async function startKindHarness(registry: DockerPodBackendOptions['registry']): Promise<KindHarness> {
  const dockerHost = await requireTestDocker();
  await requireBaseImages(dockerHost);
  const postgres = new PostgresPlayer();
  const rabbit = new RabbitPlayer();
  // Asked only once pods run, after the API server below exists.
  const prometheus = new PrometheusPlayer(() => api.store);
  const backend = new DockerPodBackend({
    dockerHost,
    registry,
    envOverrides: ENV_OVERRIDES,
    players: {
      'StatefulSet/database/postgres': postgres.play,
      'StatefulSet/messaging/rabbitmq': rabbit.play,
      // The Helm release's Deployment, as the helm stand-in applies it.
      'Deployment/monitoring/prometheus': prometheus.play,
    },
  });
  const api = await startFakeKubeApi({ backend });
  let deleted: Promise<void> | undefined;
  const stopFollowing = new AbortController();
  const close = () =>
    (deleted ??= (async () => {
      stopFollowing.abort();
      const results = await Promise.allSettled([backend.close()]);
      results.push(...(await Promise.allSettled([api.close(), postgres.stop(), rabbit.stop(), prometheus.stop()])));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    })());
  const followKindCluster = async (name: string) => {
    let seen = false;
    const gone = pollUntil(
      async () => {
        const nodes = await kindNodes(dockerHost, name);
        seen ||= nodes > 0;
        return seen && nodes === 0 ? true : undefined;
      },
      { what: `kind cluster ${name} to be deleted`, timeoutMs: FOLLOW_LIMIT_MS, intervalMs: NODE_POLL_MS, signal: stopFollowing.signal },
    );
    try {
      await gone;
    } catch (err) {
      // Closed by the test first: nothing more to follow.
      if (stopFollowing.signal.aborted) return;
      throw err;
    }
    await close();
  };
  return {
    dockerHost,
    api,
    backend,
    postgres,
    rabbit,
    prometheus,
    writeKubeconfig: (path, context) => api.writeKubeconfig(path, context ? { context } : {}),
    followKindCluster,
    close,
  };
}

/** How many node containers the kind cluster has (kind labels them with the cluster's name). */
export async function kindNodes(dockerHost: string, cluster: string): Promise<number> {
  const filters = encodeURIComponent(JSON.stringify({ label: [`io.x-k8s.kind.cluster=${cluster}`] }));
  const answer = await dockerApi(dockerHost, 'GET', `/containers/json?all=true&filters=${filters}`);
  if (answer.status !== 200) throw new Error(`listing kind nodes: ${answer.status} ${answer.body}`);
  return (JSON.parse(answer.body) as unknown[]).length;
}

/** A registry container of the test's own (`registry:2`) on a free 127.0.0.1 port; its name and `127.0.0.1:<port>`. */
export async function startTestRegistry(dockerHost: string): Promise<{ container: string; address: string }> {
  const port = await freePort();
  const container = `ecom-kind-registry-${randomBytes(4).toString('hex')}`;
  await docker(dockerHost, ['run', '--detach', '--name', container, '--label', 'ecom.test=kind-pods', '--publish', `127.0.0.1:${port}:5000`, 'registry:2']);
  const address = `127.0.0.1:${port}`;
  await pollUntil(
    async () => ((await fetch(`http://${address}/v2/`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined))?.status === 200 ? true : undefined),
    { what: `the registry on ${address}`, timeoutMs: REGISTRY_START_TIMEOUT_MS, intervalMs: 200 },
  );
  return { container, address };
}

/**
 * Removes the registry names a test gave images (`<registry>/ecom/<service>:<tag>`),
 * first naming each `ecom/<service>:<tag>` as `ecom build` does, so the engine keeps the
 * build for the next run and only the test's extra names go.
 */
export async function untagRegistryImages(dockerHost: string, references: string[]): Promise<void> {
  for (const reference of references) {
    const plain = /\/(ecom\/[a-z]+:[0-9a-f]+)$/.exec(reference)?.[1];
    if (plain) await docker(dockerHost, ['tag', reference, plain]).catch(() => {});
  }
  if (references.length > 0) await docker(dockerHost, ['image', 'rm', ...references]).catch(() => {});
}
