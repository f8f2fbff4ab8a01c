/**
 * The kind runtime (docs/architecture.md, "kind"): a two-node kind cluster named ecom
 * with the registry container ecom-registry beside it, the system applied into it, and
 * the forwards on 127.0.0.1. Its kubeconfig lives in the state directory, so the
 * user's own kubeconfig and current context are never changed.
 */
import { readFileSync, rmSync } from 'node:fs';
import { PrerequisiteError } from '../../core/errors.js';
import { LOCAL_REGISTRY } from '../../manifests/local-registry.js';
import { clusterSecretsFile } from '../../manifests/secrets.js';
import { removeClusterRecord, type ClusterStepContext } from '../cluster/context.js';
import type { Step } from '../cluster/plan.js';
import { prerequisitesStep, type ClusterTool } from '../cluster/prerequisites.js';
import { METRICS_SERVER_RELEASE } from '../cluster/release-steps.js';
import { ClusterRuntime, type ClusterRuntimeDeps, type ClusterTarget, type StepsInput, type TeardownContext } from '../cluster/runtime.js';
import { systemSteps } from '../cluster/system-steps.js';
import type { DownOptions, MeshMode, RuntimeSettings } from '../types.js';
import { CLUSTER_NAME, KIND_CONTEXT, clusterStep, kubeconfigPath, kubeconfigStep, nodeNames, nodeRegistrySteps, registrySteps } from './steps.js';

/** The Istio ingress gateway's NodePort, mapped to 127.0.0.1 by manifests/kind/cluster.yaml. */
export const GATEWAY_URL = 'http://127.0.0.1:8080';
export const SHOP_HOST = 'ecommerce.local';
const HOSTS_FILE = '/etc/hosts';
const DELETE_TIMEOUT_MS = 5 * 60_000;
const QUICK_TIMEOUT_MS = 60_000;

export class KindTarget implements ClusterTarget {
  readonly name = 'kind' as const;
  readonly overlay = 'kind' as const;
  readonly registry = LOCAL_REGISTRY.host;
  readonly mesh: MeshMode;

  constructor(
    private readonly stateDir: string,
    mesh: MeshMode = 'sidecar',
    private readonly hostsFile = HOSTS_FILE,
  ) {
    this.mesh = mesh;
  }

  kube() {
    return { kubeconfigPath: kubeconfigPath(this.stateDir), context: KIND_CONTEXT };
  }

  async steps(input: StepsInput): Promise<Array<Step<ClusterStepContext>>> {
    const tools: ClusterTool[] = ['docker', 'kind', 'kubectl', 'helm', ...(this.mesh === 'none' ? [] : (['istioctl'] as const))];
    const nodes = nodeRegistrySteps(await nodeNames(input.root));
    const kubeconfig = kubeconfigPath(this.stateDir);
    return [
      prerequisitesStep(tools, 'kind'),
      clusterStep(input.root, this.stateDir),
      kubeconfigStep(this.stateDir),
      ...registrySteps(),
      ...nodes,
      ...(await systemSteps({
        ...input,
        registry: this.registry,
        mesh: this.mesh,
        helmKubeFlags: ['--kubeconfig', kubeconfig, '--kube-context', KIND_CONTEXT],
        istioctlKubeFlags: ['--kubeconfig', kubeconfig, '--context', KIND_CONTEXT],
        clusterReady: ['kubeconfig'],
        registryReady: ['registry-running'],
        pullReady: ['registry-network', ...nodes.map((s) => s.id)],
        extraReleases: [METRICS_SERVER_RELEASE],
      })),
    ];
  }

  /** How to reach the shop through the Istio gateway, from what /etc/hosts says. */
  notes(): string[] {
    if (this.mesh === 'none') return ['without a mesh there is no Istio gateway: the shop answers on the frontend forward'];
    let hosts = '';
    try {
      hosts = readFileSync(this.hostsFile, 'utf8');
    } catch {
      // unreadable: treated as without the entry
    }
    const listed = hosts.split('\n').some((line) => line.replace(/#.*/, '').trim().split(/\s+/).slice(1).includes(SHOP_HOST));
    const gateway = `http://${SHOP_HOST}:8080/`;
    return listed
      ? [`through the Istio gateway: ${gateway} (${SHOP_HOST} is in ${this.hostsFile})`]
      : [
          `through the Istio gateway: curl -H 'Host: ${SHOP_HOST}' ${GATEWAY_URL}/ ` +
            `(${SHOP_HOST} is not in ${this.hostsFile}; add "127.0.0.1 ${SHOP_HOST}" there to open ${gateway} in a browser)`,
        ];
  }

  async teardown(ctx: TeardownContext, options: DownOptions): Promise<string[]> {
    const stopped: string[] = [];
    const task = `kind cluster ${CLUSTER_NAME}`;
    options.progress({ kind: 'start', task, verb: 'deleting' });
    if (await clusterExists(ctx)) {
      await ctx.tools.run('kind', ['delete', 'cluster', '--name', CLUSTER_NAME, '--kubeconfig', kubeconfigPath(this.stateDir)], { timeoutMs: DELETE_TIMEOUT_MS });
      stopped.push(task);
      options.progress({ kind: 'done', task, outcome: 'deleted' });
    } else {
      options.progress({ kind: 'skip', task, reason: 'no such cluster' });
    }
    if (!options.purge) return stopped;
    const registry = `registry container ${LOCAL_REGISTRY.containerName}`;
    options.progress({ kind: 'start', task: registry, verb: 'removing' });
    if (await registryExists(ctx)) {
      await ctx.tools.run('docker', ['rm', '--force', '--volumes', LOCAL_REGISTRY.containerName], { timeoutMs: QUICK_TIMEOUT_MS });
      stopped.push(registry);
      options.progress({ kind: 'done', task: registry, outcome: 'removed' });
    } else {
      options.progress({ kind: 'skip', task: registry, reason: 'none' });
    }
    for (const file of [kubeconfigPath(this.stateDir), clusterSecretsFile(this.stateDir)]) rmSync(file, { force: true });
    removeClusterRecord(this.stateDir);
    return stopped;
  }
}

/** Whether kind lists the cluster; without kind (or Docker) there is none to delete. */
async function clusterExists(ctx: TeardownContext): Promise<boolean> {
  if (!ctx.tools.find('kind')) return false;
  try {
    const result = await ctx.tools.run('kind', ['get', 'clusters'], { timeoutMs: QUICK_TIMEOUT_MS });
    return result.stdout.split('\n').some((line) => line.trim() === CLUSTER_NAME);
  } catch (err) {
    if (err instanceof PrerequisiteError) return false;
    throw err;
  }
}

async function registryExists(ctx: TeardownContext): Promise<boolean> {
  if (!ctx.tools.find('docker')) return false;
  try {
    await ctx.tools.run('docker', ['container', 'inspect', '--format', '{{.State.Status}}', LOCAL_REGISTRY.containerName], { timeoutMs: QUICK_TIMEOUT_MS });
    return true;
  } catch {
    return false;
  }
}

export class KindRuntime extends ClusterRuntime {
  constructor(settings: Pick<RuntimeSettings, 'stateDir' | 'env' | 'clusterMesh'>, deps: ClusterRuntimeDeps & { hostsFile?: string } = {}) {
    super(new KindTarget(settings.stateDir, settings.clusterMesh, deps.hostsFile), settings, deps);
  }
}
