/**
 * `down` on a cluster ecom did not create (docs/architecture.md, "context"): the
 * objects labelled app.kubernetes.io/managed-by: ecom, the Helm releases ecom
 * installed, and with --purge the namespaces ecom created (with the data in them).
 * Nothing unlabelled, no namespace that existed before, never the cluster.
 */
import { apiStatusCode } from '../../kube/api-errors.js';
import { deleteManagedObjects } from '../../kube/apply.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../../kube/types.js';
import { APPLY_PHASES } from '../../manifests/objects.js';
import { ToolError } from '../../core/errors.js';
import type { TeardownContext } from '../cluster/runtime.js';
import type { DownOptions } from '../types.js';

/** The API version ecom applies each kind with (every kind of APPLY_PHASES; a test keeps them in step). */
export const KIND_API_VERSIONS: Record<string, string> = {
  Namespace: 'v1',
  ServiceAccount: 'v1',
  Service: 'v1',
  NetworkPolicy: 'networking.k8s.io/v1',
  ConfigMap: 'v1',
  Secret: 'v1',
  StatefulSet: 'apps/v1',
  Deployment: 'apps/v1',
  HorizontalPodAutoscaler: 'autoscaling/v2',
  PodDisruptionBudget: 'policy/v1',
  PeerAuthentication: 'security.istio.io/v1beta1',
  AuthorizationPolicy: 'security.istio.io/v1',
  DestinationRule: 'networking.istio.io/v1beta1',
  Gateway: 'networking.istio.io/v1beta1',
  VirtualService: 'networking.istio.io/v1beta1',
};

const HELM_TIMEOUT_MS = 5 * 60_000;

/** Every applied kind but Namespace, the last-applied first (so nothing is left pointing at what is gone). */
export function deletionOrder(): Array<{ apiVersion: string; kind: string }> {
  const kinds = APPLY_PHASES.flatMap((phase) => [...phase.kinds]).filter((kind) => kind !== 'Namespace');
  return kinds.reverse().map((kind) => ({ apiVersion: KIND_API_VERSIONS[kind]!, kind }));
}

export async function contextTeardown(ctx: TeardownContext, options: DownOptions, helmKubeFlags: string[]): Promise<string[]> {
  const record = ctx.record;
  const stopped: string[] = [];
  for (const release of record?.helmReleases ?? []) {
    if (await uninstall(ctx, release, helmKubeFlags, options)) stopped.push(`helm release ${release}`);
  }
  const task = 'objects labelled as ecom’s';
  options.progress({ kind: 'start', task, verb: 'deleting' });
  const client = await ctx.kube();
  let deleted = 0;
  for (const kind of deletionOrder()) {
    try {
      deleted += (await deleteManagedObjects(client, [kind])).length;
    } catch (err) {
      // A kind the cluster does not serve (Istio's, without Istio) has nothing of ours.
      if (apiStatusCode(err) !== 404 && !/not found|no matches|could not find/i.test(String((err as Error).message))) throw err;
    }
  }
  if (deleted > 0) stopped.push(`${deleted} objects`);
  options.progress(deleted > 0 ? { kind: 'done', task, outcome: 'deleted', detail: `${deleted} objects` } : { kind: 'skip', task, reason: 'none left' });
  if (!options.purge) return stopped;
  for (const name of record?.createdNamespaces ?? []) {
    const namespace = await client.get({ apiVersion: 'v1', kind: 'Namespace', name });
    if (namespace?.metadata.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE) continue;
    if (await client.delete({ apiVersion: 'v1', kind: 'Namespace', name })) stopped.push(`namespace ${name}`);
  }
  return stopped;
}

async function uninstall(ctx: TeardownContext, release: string, kubeFlags: string[], options: DownOptions): Promise<boolean> {
  const [namespace, name] = release.split('/') as [string, string];
  const task = `helm release ${release}`;
  if (!ctx.tools.find('helm')) {
    options.progress({ kind: 'warn', task, message: `helm is not installed: release ${release} stays (helm uninstall ${name} --namespace ${namespace} removes it)` });
    return false;
  }
  options.progress({ kind: 'start', task, verb: 'uninstalling' });
  try {
    await ctx.tools.run('helm', ['uninstall', name, '--namespace', namespace, ...kubeFlags], { timeoutMs: HELM_TIMEOUT_MS });
  } catch (err) {
    if (err instanceof ToolError && /not found/i.test(err.stderrTail)) {
      options.progress({ kind: 'skip', task, reason: 'not installed' });
      return false;
    }
    throw err;
  }
  options.progress({ kind: 'done', task, outcome: 'uninstalled' });
  return true;
}
