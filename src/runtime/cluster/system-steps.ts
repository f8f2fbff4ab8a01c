/**
 * The steps both cluster runtimes run once a cluster answers (docs/architecture.md,
 * "kind", "context"): images built and pushed, Istio and the Helm releases, the
 * generated Secrets and every rendered object by server-side apply in order, the
 * rollouts awaited together, the forwards started and every service's /health.
 */
import { probeHealth } from '../../core/health-probe.js';
import { pollUntil } from '../../core/poll.js';
import { SERVICE_NAMES, type Endpoints, type ServiceName } from '../../core/system.js';
import { buildArgs, buildImages } from '../../images/build.js';
import { registryBaseUrl, parseRegistry, registryHasTag } from '../../images/registry.js';
import { imageRepository } from '../../images/tags.js';
import { applyObjects, type AppliedObject } from '../../kube/apply.js';
import { formatWaiting, rolloutError, waitForRollouts } from '../../kube/rollout.js';
import type { KubeObject } from '../../kube/types.js';
import { applyPhase, objectId } from '../../manifests/objects.js';
import type { MeshMode } from '../types.js';
import type { ClusterStepContext, ForwardSpec } from './context.js';
import type { Step, StepAction } from './plan.js';
import { GRAFANA_RELEASE, PROMETHEUS_RELEASE, helmReleaseStep, istioStep, prometheusArgsFor, type HelmRelease } from './release-steps.js';

type ClusterStep = Step<ClusterStepContext>;

export interface SystemStepsInput {
  /** The package root: Dockerfile, manifests/. */
  root: string;
  /** The rendered objects (secrets redacted: the plan needs only their names). */
  rendered: KubeObject[];
  tags: Record<ServiceName, string>;
  /** Where images are pushed: `localhost:5050` (kind) or --registry (context). */
  registry: string;
  mesh: MeshMode;
  helmKubeFlags: string[];
  istioctlKubeFlags: string[];
  forwards: ForwardSpec[];
  endpoints: Endpoints;
  /** Steps after which the cluster's API answers. */
  clusterReady: string[];
  /** Steps after which the registry takes pushes. */
  registryReady: string[];
  /** Steps after which the nodes can pull from the registry. */
  pullReady: string[];
  /** Releases of the runtime's own (metrics-server on kind), installed once the cluster answers. */
  extraReleases: HelmRelease[];
}

const FIRST_OBJECTS = new Set(['Namespace', 'Secret']);
const HEALTH_POLL_MS = 500;
const HEALTH_MAX_POLL_MS = 3_000;

/** Istio's own kinds: left out without a mesh, which would have no CRDs for them. */
function isIstioObject(object: KubeObject): boolean {
  return applyPhase(object) === 'istio';
}

export async function systemSteps(input: SystemStepsInput): Promise<ClusterStep[]> {
  const meshed = input.mesh !== 'none';
  const objects = input.rendered.filter((o) => meshed || !isIstioObject(o));
  const first = objects.filter((o) => FIRST_OBJECTS.has(o.kind));
  const rest = objects.filter((o) => !FIRST_OBJECTS.has(o.kind));
  const istio = meshed ? [istioStep(input.root, input.istioctlKubeFlags, input.clusterReady)] : [];
  const istioIds = istio.map((s) => s.id);
  const prometheus = { ...PROMETHEUS_RELEASE, args: await prometheusArgsFor(input.root, input.mesh) };
  const releases: Array<[HelmRelease, string[]]> = [
    ...input.extraReleases.map((r): [HelmRelease, string[]] => [r, input.clusterReady]),
    // Prometheus joins the mesh (sidecar injection needs Istio); both read the namespace's Secrets.
    [prometheus, ['namespaces-secrets', ...istioIds]],
    [GRAFANA_RELEASE, ['namespaces-secrets']],
  ];
  const releaseSteps = releases.map(([release, needs]) => helmReleaseStep(input.root, release, input.helmKubeFlags, needs));
  const workloads = [...objects, ...releases.map(([r]) => releaseDeployment(r))];
  return [
    imagesStep(input),
    ...istio,
    applyStep('namespaces-secrets', 'namespaces and secrets', first, input.clusterReady),
    ...releaseSteps,
    applyStep('objects', `objects (${rest.length})`, rest, ['namespaces-secrets', 'images', ...istioIds, ...input.pullReady]),
    rolloutStep(workloads, ['objects', ...releaseSteps.map((s) => s.id)]),
    forwardStep(input.forwards),
    healthStep(input.endpoints),
  ];
}

function releaseDeployment(release: HelmRelease): KubeObject {
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: release.deployment, namespace: release.namespace } };
}

function manifestUrl(registry: string, service: ServiceName, tag: string): string {
  const { host, namespace } = parseRegistry(registry);
  return `${registryBaseUrl(host)}/v2/${namespace ? `${namespace}/` : ''}${imageRepository(service)}/manifests/${tag}`;
}

/** Skipped when the registry has every tag; otherwise images/build.ts builds and pushes what it lacks. */
function imagesStep(input: SystemStepsInput): ClusterStep {
  const reference = (s: ServiceName) => `${input.registry}/${imageRepository(s)}:${input.tags[s]}`;
  const build: StepAction<ClusterStepContext> = {
    planned: SERVICE_NAMES.flatMap((service) => [
      { kind: 'task' as const, lines: [`HEAD ${manifestUrl(input.registry, service, input.tags[service])}: skip ${service} when the registry has it`] },
      { kind: 'command' as const, argv: ['docker', ...buildArgs(input.root, service, input.tags[service], reference(service), undefined)] },
      { kind: 'command' as const, argv: ['docker', 'push', reference(service)] },
    ]),
    run: async (ctx) => {
      const result = await buildImages({ root: input.root, services: SERVICE_NAMES, registry: input.registry, push: true, tools: ctx.tools, progress: ctx.progress, fetch: ctx.fetch });
      const pushed = result.images.filter((i) => i.pushed).map((i) => i.service);
      return pushed.length > 0 ? `pushed ${pushed.join(', ')}` : { detail: 'the registry has every image', unchanged: true };
    },
  };
  return {
    id: 'images',
    title: 'images',
    needs: input.registryReady,
    check: {
      describe: `the registry ${input.registry} has every service's input-hash tag`,
      done: async (ctx) => {
        const checks = await Promise.all(SERVICE_NAMES.map((s) => registryHasTag(input.registry, imageRepository(s), input.tags[s], ctx.fetch)));
        return checks.every((c) => c.presence === 'present') ? `${input.registry} has all ${SERVICE_NAMES.length} images` : undefined;
      },
    },
    actions: [build],
  };
}

function describeApplied(applied: AppliedObject[]): { detail: string; unchanged: boolean } {
  const counts = new Map<string, number>();
  for (const a of applied) counts.set(a.outcome, (counts.get(a.outcome) ?? 0) + 1);
  const detail = ['created', 'configured', 'unchanged'].filter((o) => counts.has(o)).map((o) => `${counts.get(o)} ${o}`).join(', ');
  return { detail, unchanged: applied.every((a) => a.outcome === 'unchanged') };
}

/** Server-side apply (field manager ecom) of the named objects, in order; namespaces it created are recorded. */
function applyStep(id: string, title: string, planned: KubeObject[], needs: string[]): ClusterStep {
  const ids = new Set(planned.map(objectId));
  return {
    id,
    title,
    needs,
    actions: [
      {
        planned: [{ kind: 'apply', objects: planned.map(objectId) }],
        run: async (ctx) => {
          const objects = (await ctx.systemObjects()).filter((o) => ids.has(objectId(o)));
          const applied = await applyObjects(await ctx.kube(), objects, (a) => {
            if (a.ref.kind === 'Namespace' && a.outcome === 'created') ctx.created.namespaces.add(a.ref.name);
          });
          return describeApplied(applied);
        },
      },
    ],
  };
}

/** Every workload at once under the rest of the deadline; one that does not finish says why. */
function rolloutStep(objects: KubeObject[], needs: string[]): ClusterStep {
  const workloads = objects.filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind));
  return {
    id: 'rollouts',
    title: 'rollouts',
    needs,
    changes: false,
    actions: [
      {
        planned: [{ kind: 'task', lines: workloads.map((o) => `wait for ${objectId(o)}`) }],
        run: async (ctx) => {
          const timeoutMs = ctx.remainingMs();
          const result = await waitForRollouts(await ctx.kube(), workloads, {
            timeoutMs,
            signal: ctx.signal,
            onWaiting: (report) => ctx.progress({ kind: 'waiting', task: 'rollouts', reason: formatWaiting(report) }),
          });
          if (result.outcome !== 'ready') throw rolloutError(result, timeoutMs);
          return `${result.workloads.length} workloads ready`;
        },
      },
    ],
  };
}

function forwardStep(forwards: ForwardSpec[]): ClusterStep {
  return {
    id: 'forwards',
    title: 'port-forwards',
    needs: ['rollouts'],
    check: { describe: 'the forwarder runs with these forwards', done: (ctx) => ctx.forwarder.alreadyRunning(forwards) },
    actions: [
      {
        planned: [{ kind: 'task', lines: forwards.map((f) => `forward 127.0.0.1:${f.localPort} to Service ${f.namespace}/${f.service} port ${f.port}`) }],
        run: async (ctx) => {
          await ctx.forwarder.start(forwards);
          return `${forwards.length} forwards`;
        },
      },
    ],
  };
}

/** The contract's promise: `up` returns when every service answers /health through its forward. */
function healthStep(endpoints: Endpoints): ClusterStep {
  return {
    id: 'health',
    title: 'health',
    needs: ['forwards'],
    changes: false,
    actions: [
      {
        planned: [{ kind: 'task', lines: SERVICE_NAMES.map((s) => `GET ${endpoints.services[s]}/health until it answers 200`) }],
        run: async (ctx) => {
          await Promise.all(
            SERVICE_NAMES.map((service) =>
              pollUntil(
                async (attempt) => {
                  const probe = await probeHealth(endpoints.services[service]);
                  if (probe.health === 'ok') return true;
                  attempt.waiting(`${probe.health}${probe.detail ? ` (${probe.detail})` : ''}`);
                  return undefined;
                },
                { what: `${service} to answer ${endpoints.services[service]}/health`, timeoutMs: ctx.remainingMs(), intervalMs: HEALTH_POLL_MS, maxIntervalMs: HEALTH_MAX_POLL_MS, backoff: 2, signal: ctx.signal },
              ),
            ),
          );
          return 'every service answers /health';
        },
      },
    ],
  };
}
