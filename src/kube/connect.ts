/**
 * The entry to the Kubernetes layer: the client library is imported here, lazily, the
 * first time a command needs a cluster, so `ecom --help` and the local runtime never
 * load it (docs/architecture.md, "Kubernetes layer").
 */
import type { KubeTarget } from './kubeconfig.js';
import type { KubeClient } from './types.js';

export type { KubeTarget } from './kubeconfig.js';

/** A KubeClient for the target's context; a missing kubeconfig or unknown context throws a one-line EcomError. */
export async function connectKube(target: KubeTarget = {}): Promise<KubeClient> {
  const { createKubeClient } = await import('./client-node.js');
  return createKubeClient(target);
}
