/**
 * The context runtime (docs/architecture.md, "context"): the same system on a cluster
 * that already exists, named by --context from kubeconfig. No cluster, no registry
 * container, no kind: images are pushed to --registry, which the cluster pulls from.
 * A cluster that is not local is changed only when a person confirms or --yes says so.
 */
import { rmSync } from 'node:fs';
import { UsageError } from '../../core/errors.js';
import { checkKubeconfigFile, defaultKubeconfigPath } from '../../kube/kubeconfig.js';
import { requireRegistry } from '../../manifests/render.js';
import { clusterSecretsFile } from '../../manifests/secrets.js';
import { readClusterRecord, removeClusterRecord, type ClusterStepContext } from '../cluster/context.js';
import type { Step } from '../cluster/plan.js';
import { prerequisitesStep, type ClusterTool } from '../cluster/prerequisites.js';
import { ClusterRuntime, type ClusterRuntimeDeps, type ClusterTarget, type StepsInput, type TeardownContext } from '../cluster/runtime.js';
import { systemSteps } from '../cluster/system-steps.js';
import type { DownOptions, MeshMode, RuntimeSettings } from '../types.js';
import { askOnTerminal, confirmContext, currentContextOf, type TerminalCheck } from './locality.js';
import { contextTeardown } from './teardown.js';

export type ContextSettings = Pick<RuntimeSettings, 'stateDir' | 'env' | 'clusterMesh' | 'contextName' | 'contextRegistry' | 'contextAssumeYes'>;

export interface ContextDeps extends ClusterRuntimeDeps {
  /** Whether a person can be asked (the real terminal by default). */
  terminal?: TerminalCheck;
  ask?: (question: string) => Promise<boolean>;
}

export class ContextTarget implements ClusterTarget {
  readonly name = 'context' as const;
  readonly overlay = 'context' as const;
  readonly mesh: MeshMode;

  constructor(
    private readonly settings: ContextSettings,
    private readonly deps: ContextDeps = {},
  ) {
    this.mesh = settings.clusterMesh ?? 'sidecar';
  }

  /** --registry: required to go up, and checked only then (status and down do without it). */
  get registry(): string {
    return requireRegistry(this.settings.contextRegistry ?? readClusterRecord(this.settings.stateDir)?.registry);
  }

  kube() {
    const record = readClusterRecord(this.settings.stateDir);
    const kubeconfigPath = record && !this.settings.contextName ? record.kubeconfigPath : defaultKubeconfigPath(this.settings.env);
    const context = this.settings.contextName ?? record?.context ?? currentContextFromFile(kubeconfigPath);
    if (!context) {
      throw new UsageError(`kubeconfig ${kubeconfigPath} names no current context`, 'name the cluster with --context NAME (kubectl config get-contexts lists them)');
    }
    return { kubeconfigPath, context };
  }

  private helmFlags(): string[] {
    const { kubeconfigPath, context } = this.kube();
    return ['--kubeconfig', kubeconfigPath, '--kube-context', context];
  }

  async beforeUp(): Promise<void> {
    // A missing --registry is a usage error before anyone is asked anything.
    requireRegistry(this.settings.contextRegistry ?? readClusterRecord(this.settings.stateDir)?.registry);
    await confirmContext({
      context: this.kube().context,
      assumeYes: this.settings.contextAssumeYes ?? false,
      terminal: this.deps.terminal ?? { env: this.settings.env, stdinIsTTY: Boolean(process.stdin.isTTY), stderrIsTTY: Boolean(process.stderr.isTTY) },
      ask: this.deps.ask ?? askOnTerminal,
    });
  }

  async steps(input: StepsInput): Promise<Array<Step<ClusterStepContext>>> {
    const tools: ClusterTool[] = ['docker', 'helm', ...(this.mesh === 'none' ? [] : (['istioctl'] as const))];
    const { kubeconfigPath, context } = this.kube();
    return [
      prerequisitesStep(tools, 'context'),
      ...(await systemSteps({
        ...input,
        registry: this.registry,
        mesh: this.mesh,
        helmKubeFlags: this.helmFlags(),
        istioctlKubeFlags: ['--kubeconfig', kubeconfigPath, '--context', context],
        clusterReady: ['prerequisites'],
        registryReady: ['prerequisites'],
        pullReady: [],
        extraReleases: [],
      })),
    ];
  }

  notes(): string[] {
    return [
      `images are pushed to ${this.registry}; the cluster's nodes must be able to pull from it (and docker must be logged in to push)`,
      'the HPAs need a metrics-server in the cluster, which the context runtime does not install',
    ];
  }

  async teardown(ctx: TeardownContext, options: DownOptions): Promise<string[]> {
    if (!ctx.record) {
      options.progress({ kind: 'skip', task: 'cluster objects', reason: `no \`ecom up --runtime context\` recorded in ${this.settings.stateDir}` });
      return [];
    }
    const stopped = await contextTeardown(ctx, options, ['--kubeconfig', ctx.record.kubeconfigPath, '--kube-context', ctx.record.context]);
    if (options.purge) {
      rmSync(clusterSecretsFile(this.settings.stateDir), { force: true });
      removeClusterRecord(this.settings.stateDir);
    }
    return stopped;
  }
}

export class ContextRuntime extends ClusterRuntime {
  constructor(settings: ContextSettings, deps: ContextDeps = {}) {
    super(new ContextTarget(settings, deps), settings, deps);
  }
}

/**
 * The file's current context, read only when --context and the record name none (a
 * dry run with --context reads nothing). A missing or unreadable file is said as such
 * (exit 3), not as a file without a context; connecting checks it again (loadKubeconfig).
 */
function currentContextFromFile(kubeconfigPath: string): string | undefined {
  checkKubeconfigFile(kubeconfigPath);
  return currentContextOf(kubeconfigPath);
}
