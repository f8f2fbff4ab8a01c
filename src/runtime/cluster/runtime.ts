/**
 * The Runtime contract for a Kubernetes cluster, shared by the kind and context
 * runtimes (docs/architecture.md, "kind" and "context"). A ClusterTarget says what
 * differs (the cluster and registry steps, the kubeconfig, what `down` removes); this
 * class renders the system, builds the step list, runs it or describes it
 * (`up --dry-run`), records what `up` made, and answers status, logs and endpoints.
 */
import { EcomError, ExitCode, TimeoutError, UsageError } from '../../core/errors.js';
import type { Endpoints, ServiceName } from '../../core/system.js';
import { imageTags } from '../../images/tags.js';
import type { KubeClient, KubeObject } from '../../kube/types.js';
import type { KubeTarget } from '../../kube/kubeconfig.js';
import { renderSystem, type Overlay } from '../../manifests/render.js';
import { loadOrCreateClusterSecrets } from '../../manifests/secrets.js';
import { packageRoot } from '../../services/common/paths.js';
import { ToolRunner } from '../../tools/tool-runner.js';
import type {
  DownOptions,
  DownResult,
  LogLine,
  LogOptions,
  MeshMode,
  PlanOptions,
  Reloader,
  Runtime,
  RuntimeSettings,
  SystemAccess,
  SystemStatus,
  UpOptions,
  UpPlan,
  UpResult,
} from '../types.js';
import { endpointsFor, readClusterRecord, systemForwards, writeClusterRecord, type ClusterRecord, type ClusterStepContext, type ForwarderControl } from './context.js';
import { forwarderControl } from './forward-control.js';
import { readConsoleUrl } from './forwarder-files.js';
import { forwarderPid } from './forwarder.js';
import { describeSteps, runSteps, type Step } from './plan.js';
import type { SystemStepsInput } from './system-steps.js';

export type ClusterRuntimeName = 'kind' | 'context';

/** What the shared part hands a target to build its step list from. */
export type StepsInput = Pick<SystemStepsInput, 'root' | 'rendered' | 'tags' | 'forwards' | 'endpoints'>;

/** What differs between kind and an existing cluster. */
export interface ClusterTarget {
  readonly name: ClusterRuntimeName;
  readonly overlay: Overlay;
  readonly mesh: MeshMode;
  /** Where images are pushed (and, for context, what the rendered objects name). */
  readonly registry: string;
  /** The cluster to talk to. */
  kube(): KubeTarget & { kubeconfigPath: string; context: string };
  /** Called before `up` runs anything (context: confirm a cluster that is not local). */
  beforeUp?(): Promise<void>;
  steps(input: StepsInput): Promise<Array<Step<ClusterStepContext>>>;
  /** Said after `up` and with a plan: how to reach the gateway, what is assumed. */
  notes(): string[];
  /** Removes what `up` made (after the forwarder stopped); returns what it removed, in words. */
  teardown(ctx: TeardownContext, options: DownOptions): Promise<string[]>;
}

export interface TeardownContext {
  tools: ToolRunner;
  record: ClusterRecord | undefined;
  kube(): Promise<KubeClient>;
}

export interface ClusterRuntimeDeps {
  tools?: ToolRunner;
  fetch?: typeof fetch;
  forwarder?: ForwarderControl;
  /** The package root (manifests/, Dockerfile); the installed package by default. */
  root?: string;
}

export class ClusterRuntime implements Runtime {
  readonly name: ClusterRuntimeName;
  readonly stateDir: string;
  readonly root: string;
  private readonly tools: ToolRunner;
  private readonly fetchImpl: typeof fetch;
  private readonly forwarder: ForwarderControl;

  constructor(
    readonly target: ClusterTarget,
    settings: Pick<RuntimeSettings, 'stateDir' | 'env'>,
    deps: ClusterRuntimeDeps = {},
  ) {
    this.name = target.name;
    this.stateDir = settings.stateDir;
    this.root = deps.root ?? packageRoot();
    this.tools = deps.tools ?? new ToolRunner({ env: settings.env });
    this.fetchImpl = deps.fetch ?? fetch;
    this.forwarder = deps.forwarder ?? forwarderControl(this.stateDir, () => target.kube());
  }

  /** The offset asked for, else the one the system already up uses, else 0. */
  private offset(portOffset: number | undefined): number {
    return portOffset ?? readClusterRecord(this.stateDir)?.portOffset ?? 0;
  }

  private async buildSteps(offset: number): Promise<Array<Step<ClusterStepContext>>> {
    if (this.target.mesh === 'ambient') throw ambientUnsupported();
    const tags = await imageTags(this.root);
    const registry = this.target.overlay === 'context' ? this.target.registry : undefined;
    const rendered = (await renderSystem({ root: this.root, overlay: this.target.overlay, registry, tags, redact: true })) as KubeObject[];
    return this.target.steps({ root: this.root, rendered, tags, forwards: systemForwards(offset), endpoints: endpointsFor(offset) });
  }

  async plan(options: PlanOptions = {}): Promise<UpPlan> {
    const steps = await this.buildSteps(this.offset(options.portOffset));
    return { runtime: this.name, steps: describeSteps(steps), notes: this.target.notes() };
  }

  async up(options: UpOptions): Promise<UpResult> {
    const deadline = Date.now() + options.timeoutMs;
    const offset = this.offset(options.portOffset);
    await this.target.beforeUp?.();
    const steps = await this.buildSteps(offset);
    const abort = new AbortController();
    const ctx = this.stepContext(options, deadline, abort.signal);
    const previous = readClusterRecord(this.stateDir);
    const kube = this.target.kube();
    const record = (): ClusterRecord => ({
      runtime: this.name,
      kubeconfigPath: kube.kubeconfigPath,
      context: kube.context,
      portOffset: offset,
      mesh: this.target.mesh,
      registry: this.target.registry,
      createdNamespaces: [...new Set([...(previous?.createdNamespaces ?? []), ...ctx.created.namespaces])].sort(),
      helmReleases: [...new Set([...(previous?.helmReleases ?? []), ...ctx.created.helmReleases])].sort(),
      upAt: new Date().toISOString(),
    });
    // Written before and after: a failed `up` still leaves what `down` needs to find.
    writeClusterRecord(this.stateDir, record());
    try {
      const reports = await runSteps(steps, ctx, abort);
      const alreadyUp = reports.every((r) => !r.changes || r.outcome === 'skipped');
      return { alreadyUp, endpoints: this.endpointsAt(offset), warnings: [], notes: this.target.notes() };
    } finally {
      writeClusterRecord(this.stateDir, record());
    }
  }

  private stepContext(options: UpOptions, deadline: number, signal: AbortSignal): ClusterStepContext {
    let client: Promise<KubeClient> | undefined;
    let objects: Promise<KubeObject[]> | undefined;
    return {
      tools: this.tools,
      progress: options.progress,
      signal,
      remainingMs: () => {
        const left = deadline - Date.now();
        if (left <= 0) throw new TimeoutError(`ecom up did not finish within ${Math.round(options.timeoutMs / 1000)} s`, 'run `ecom up` again with a longer --timeout; it picks up where it stopped');
        return left;
      },
      kube: () => (client ??= import('../../kube/connect.js').then(({ connectKube }) => connectKube(this.target.kube()))),
      systemObjects: () => (objects ??= this.renderWithSecrets()),
      fetch: this.fetchImpl,
      forwarder: this.forwarder,
      created: { namespaces: new Set(), helmReleases: new Set() },
    };
  }

  /** The objects with the real secrets: generated on the first `up`, kept in the state directory (0600). */
  private async renderWithSecrets(tags?: Record<ServiceName, string>): Promise<KubeObject[]> {
    const { secrets } = await loadOrCreateClusterSecrets(this.stateDir);
    const registry = this.target.overlay === 'context' ? this.target.registry : undefined;
    return (await renderSystem({ root: this.root, overlay: this.target.overlay, registry, tags: tags ?? (await imageTags(this.root)), secrets, redact: false })) as KubeObject[];
  }

  /** Rebuild a changed image, push it, roll its Deployment (reload.ts); needs a cluster `up` made. */
  async reloader(): Promise<Reloader> {
    const record = readClusterRecord(this.stateDir);
    if (!record) throw new EcomError(`nothing runs on the ${this.name} runtime here`, 'start it with `ecom up`');
    const { ClusterReloader } = await import('./reload.js');
    let client: Promise<KubeClient> | undefined;
    return new ClusterReloader({
      root: this.root,
      registry: this.target.registry,
      tools: this.tools,
      fetch: this.fetchImpl,
      kube: () => (client ??= import('../../kube/connect.js').then(({ connectKube }) => connectKube(record))),
      systemObjects: (tags) => this.renderWithSecrets(tags),
      endpoints: () => this.endpointsAt(record.portOffset),
    });
  }

  /** Nothing recorded, or a cluster that no longer answers (deleted by hand): nothing runs. */
  async status(): Promise<SystemStatus> {
    const record = readClusterRecord(this.stateDir);
    const nothing: SystemStatus = { runtime: this.name, running: false, services: [], dependencies: [] };
    if (!record) return nothing;
    const [{ connectKube }, { clusterStatus }] = await Promise.all([import('../../kube/connect.js'), import('./status.js')]);
    let client: KubeClient;
    try {
      client = await connectKube(record);
    } catch {
      return nothing;
    }
    return clusterStatus(client, { runtime: this.name, endpoints: endpointsFor(record.portOffset), stateDir: this.stateDir }).catch((err: unknown) => {
      if (err instanceof EcomError && err.exitCode === ExitCode.prerequisite) return nothing;
      throw err;
    });
  }

  /** The services' pods' logs merged in time (runtime/cluster/logs.ts); pods only, so none before `up` or after `down`. */
  async *logs(options: LogOptions): AsyncIterable<LogLine> {
    const record = readClusterRecord(this.stateDir);
    if (!record) throw new EcomError('nothing is running, so there are no logs to show', 'start the system with `ecom up`');
    const [{ connectKube }, { clusterLogs }] = await Promise.all([import('../../kube/connect.js'), import('./logs.js')]);
    yield* clusterLogs(await connectKube(record), options);
  }

  /** Where the forwards answer, while the forwarder holds them. */
  async endpoints(): Promise<Endpoints | undefined> {
    const record = readClusterRecord(this.stateDir);
    if (!record || forwarderPid(this.stateDir) === undefined) return undefined;
    return this.endpointsAt(record.portOffset);
  }

  /** The forwarded URLs and the logins from the generated secrets; undefined before an `up`. */
  async access(): Promise<SystemAccess | undefined> {
    const record = readClusterRecord(this.stateDir);
    if (!record) return undefined;
    const { clusterAccess } = await import('./access.js');
    const access = await clusterAccess(this.name, this.stateDir, record, this.endpointsAt(record.portOffset));
    if (forwarderPid(this.stateDir) === undefined) access.notes.unshift('the port-forwards are not running: these URLs answer after `ecom up`');
    return access;
  }

  /** The forwards' URLs, and the console's when the forwarder serves one. */
  private endpointsAt(offset: number): Endpoints {
    const console = readConsoleUrl(this.stateDir);
    return { ...endpointsFor(offset), ...(console ? { console } : {}) };
  }

  async down(options: DownOptions): Promise<DownResult> {
    const stopped: string[] = [];
    const task = 'port-forwards';
    options.progress({ kind: 'start', task, verb: 'stopping' });
    if (await this.forwarder.stop()) {
      stopped.push('port-forwards');
      options.progress({ kind: 'done', task, outcome: 'stopped' });
    } else {
      options.progress({ kind: 'skip', task, reason: 'none running' });
    }
    const record = readClusterRecord(this.stateDir);
    let client: Promise<KubeClient> | undefined;
    const kube = () => (client ??= import('../../kube/connect.js').then(({ connectKube }) => connectKube(record ?? this.target.kube())));
    stopped.push(...(await this.target.teardown({ tools: this.tools, record, kube }, options)));
    return { stopped, purged: options.purge };
  }
}

/**
 * The AuthorizationPolicies match HTTP methods and paths; in ambient mode only a
 * waypoint proxy enforces those, and the manifests define none (docs/architecture.md,
 * "Manifests"). Refused rather than installed with policies that would deny everything.
 */
function ambientUnsupported(): UsageError {
  return new UsageError(
    '--mesh ambient is not supported: the AuthorizationPolicies match HTTP methods and paths, which ambient mode enforces only through a waypoint proxy the manifests do not define',
    'use --mesh sidecar (the default), or --mesh none for no mesh at all',
  );
}
