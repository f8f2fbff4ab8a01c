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
import { docker, requireBaseImages, requireTestDocker } from '../helpers/docker.js';
import { DockerPodBackend, type DockerPodBackendOptions } from '../helpers/fake-kube-api/docker-pod-backend.js';
import { startFakeKubeApi, type FakeKubeApi } from '../helpers/fake-kube-api/index.js';
import { freePort, PostgresPlayer, RabbitPlayer } from './kind-harness-infra.js';
import { pollUntil } from '../../src/core/poll.js';

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
  /** Writes a kubeconfig for the API server (context name as given). */
  writeKubeconfig(path: string, context?: string): string;
  close(): Promise<void>;
}

export async function startKindHarness(registry: DockerPodBackendOptions['registry']): Promise<KindHarness> {
  const dockerHost = await requireTestDocker();
  await requireBaseImages(dockerHost);
  const postgres = new PostgresPlayer();
  const rabbit = new RabbitPlayer();
  const backend = new DockerPodBackend({
    dockerHost,
    registry,
    envOverrides: ENV_OVERRIDES,
    players: { 'StatefulSet/database/postgres': postgres.play, 'StatefulSet/messaging/rabbitmq': rabbit.play },
  });
  const api = await startFakeKubeApi({ backend });
  return {
    dockerHost,
    api,
    backend,
    postgres,
    rabbit,
    writeKubeconfig: (path, context) => api.writeKubeconfig(path, context ? { context } : {}),
    close: async () => {
      // Each step runs even when one before it fails: nothing of the run may stay behind.
      const results = await Promise.allSettled([backend.close()]);
      await api.close().catch(() => {});
      results.push(...(await Promise.allSettled([postgres.stop(), rabbit.stop()])));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
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
