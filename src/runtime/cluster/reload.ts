/**
 * The loop in a cluster (docs/architecture.md, "The loop"): a service's image is
 * rebuilt when its input-hash tag differs from the image its Deployment runs, pushed
 * to the runtime's registry, and the Deployment re-applied with the new image (the
 * object `up` applies, rendered with the new tag); the rollout replaces the pods
 * while the old ones keep serving until the new are Ready, then /health is asked
 * through the forward. A restart asked with no new image (`ecom restart`) stamps a
 * restart annotation on the pod template under a field manager of its own, as
 * `kubectl rollout restart` does, so `up` neither removes it nor rolls again.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { EcomError } from '../../core/errors.js';
import { probeHealth } from '../../core/health-probe.js';
import { pollUntil } from '../../core/poll.js';
import { SERVICE_NAMES, type Endpoints, type ServiceName } from '../../core/system.js';
import { buildImages } from '../../images/build.js';
import { imageTags, SHARED_INPUT_FILES } from '../../images/tags.js';
import { applyObjects } from '../../kube/apply.js';
import { describeStuck, formatWaiting, waitForRollouts } from '../../kube/rollout.js';
import type { KubeClient, KubeObject } from '../../kube/types.js';
import type { ToolRunner } from '../../tools/tool-runner.js';
import type { BuildOutcome, Reloader, RestartOptions, RestartOutcome } from '../types.js';

export const SERVICES_NAMESPACE = 'ecommerce';
export const RESTART_ANNOTATION = 'ecom.dev/restartedAt';
export const RESTART_FIELD_MANAGER = 'ecom-restart';
const HEALTH_POLL_MS = 100;
const HEALTH_MAX_POLL_MS = 1_000;

export interface ClusterReloadDeps {
  /** The package root: Dockerfile, src/services. */
  root: string;
  /** Where images are pushed and the cluster pulls them from. */
  registry: string;
  tools: ToolRunner;
  fetch: typeof fetch;
  kube(): Promise<KubeClient>;
  /** The objects `up` applies (real secrets), with these image tags. */
  systemObjects(tags: Record<ServiceName, string>): Promise<KubeObject[]>;
  /** Where the services answer through the forwards. */
  endpoints(): Endpoints;
}

/** The tag of the image a Deployment runs (`…/ecom/order:ab12cd34ef56` → `ab12cd34ef56`). */
export function imageTagOf(deployment: { spec?: { template?: { spec?: { containers?: Array<{ image?: string }> } } } } | undefined): string | undefined {
  const image = deployment?.spec?.template?.spec?.containers?.[0]?.image;
  const colon = image?.lastIndexOf(':') ?? -1;
  return image && colon > image.lastIndexOf('/') ? image.slice(colon + 1) : undefined;
}

export class ClusterReloader implements Reloader {
  readonly watchPaths: string[];
  private tags: Record<ServiceName, string> | undefined;

  constructor(private readonly deps: ClusterReloadDeps) {
    const shared = SHARED_INPUT_FILES.map((f) => join(deps.root, f)).filter((f) => existsSync(f));
    this.watchPaths = [join(deps.root, 'src', 'services'), ...shared];
  }

  /** The services whose tag differs from what their Deployment runs, built and pushed. */
  async build(): Promise<BuildOutcome> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const tags = await imageTags(this.deps.root);
    const client = await this.deps.kube();
    const running = await Promise.all(SERVICE_NAMES.map(async (s) => imageTagOf(await client.read('deployments', SERVICES_NAMESPACE, s))));
    const changed = SERVICE_NAMES.filter((s, i) => running[i] !== tags[s]);
    if (changed.length > 0) {
      try {
        await buildImages({ root: this.deps.root, services: changed, registry: this.deps.registry, push: true, tools: this.deps.tools, fetch: this.deps.fetch });
      } catch (err) {
        if (!(err instanceof EcomError)) throw err;
        return { ok: false, error: [err.message, err.detail].filter(Boolean).join('\n'), elapsedMs: elapsed() };
      }
    }
    this.tags = tags;
    return { ok: true, changed, elapsedMs: elapsed() };
  }

  async restart(services: readonly ServiceName[], options: RestartOptions): Promise<RestartOutcome[]> {
    const tags = this.tags ?? (await imageTags(this.deps.root));
    const [client, objects] = await Promise.all([this.deps.kube(), this.deps.systemObjects(tags)]);
    return Promise.all(services.map((service) => this.restartOne(client, objects, service, options)));
  }

  private async restartOne(client: KubeClient, objects: KubeObject[], service: ServiceName, options: RestartOptions): Promise<RestartOutcome> {
    const asked = performance.now();
    const since = () => Math.round(performance.now() - asked);
    const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.namespace === SERVICES_NAMESPACE && o.metadata.name === service);
    if (!deployment) return { service, ok: false, restartMs: 0, error: `no Deployment ${SERVICES_NAMESPACE}/${service} among the rendered objects` };
    const detail = `image ${imageOf(deployment) ?? '?'}`;
    try {
      const [applied] = await applyObjects(client, [deployment]);
      // Same image: nothing would roll, so stamp the pod template as `kubectl rollout restart` does.
      if (applied?.outcome === 'unchanged') await client.apply(restartStamp(service), { fieldManager: RESTART_FIELD_MANAGER });
      const result = await waitForRollouts(client, [deployment], {
        timeoutMs: options.timeoutMs,
        signal: options.signal,
        onWaiting: (report) => options.progress?.({ kind: 'waiting', task: service, reason: formatWaiting(report) }),
      });
      const restartMs = since();
      if (result.outcome !== 'ready') return { service, ok: false, restartMs, detail, error: result.stuck.map(describeStuck).join('\n') || 'the rollout did not finish' };
      const url = this.deps.endpoints().services[service];
      await pollUntil(
        async (attempt) => {
          const probe = await probeHealth(url);
          if (probe.health === 'ok') return true;
          attempt.waiting(`${probe.health}${probe.detail ? ` (${probe.detail})` : ''}`);
          return undefined;
        },
        { what: `${service} to answer ${url}/health`, timeoutMs: options.timeoutMs, intervalMs: HEALTH_POLL_MS, maxIntervalMs: HEALTH_MAX_POLL_MS, backoff: 2, signal: options.signal },
      );
      return { service, ok: true, restartMs, healthyMs: since(), detail };
    } catch (err) {
      return { service, ok: false, restartMs: since(), detail, error: (err as Error).message };
    }
  }

  async close(): Promise<void> {}
}

function imageOf(deployment: KubeObject): string | undefined {
  return (deployment as { spec?: { template?: { spec?: { containers?: Array<{ image?: string }> } } } }).spec?.template?.spec?.containers?.[0]?.image;
}

/** Only the annotation, applied by its own manager: the rest of the Deployment stays `up`'s. */
function restartStamp(service: ServiceName): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: service, namespace: SERVICES_NAMESPACE },
    spec: { template: { metadata: { annotations: { [RESTART_ANNOTATION]: new Date().toISOString() } } } },
  };
}
