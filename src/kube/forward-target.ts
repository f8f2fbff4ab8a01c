/**
 * Where a Service forward connects: a Ready pod behind the Service (by its selector)
 * and the pod port its targetPort names (by name or number), resolved afresh on every
 * (re)connect so a pod replaced by a redeploy is picked up (docs/architecture.md,
 * "Port-forwards"). The mesh's istio-proxy sidecar is awaited separately: a pod whose
 * application is ready may still drop connections until its proxy is.
 */
import type { V1Pod, V1Service, V1ServicePort } from '@kubernetes/client-node';
import { containerStatuses, isPodReady, isTerminating, podReason, selectorString, timeOf } from './pods.js';
import type { KubeClient } from './types.js';

export const ISTIO_PROXY = 'istio-proxy';

export interface ForwardTarget {
  pod: string;
  uid: string;
  /** The pod port connections go to. */
  port: number;
  /** The pod runs the mesh's sidecar (as a container or a native sidecar init container). */
  hasProxy: boolean;
}

/** Why no target could be chosen; the forward backs off and tries again. */
export class NoTargetError extends Error {}

export async function resolveTarget(client: KubeClient, namespace: string, serviceName: string, servicePort: number | string): Promise<ForwardTarget> {
  const service = await client.read('services', namespace, serviceName);
  if (!service) throw new NoTargetError(`service ${namespace}/${serviceName} does not exist`);
  const port = findServicePort(service, servicePort);
  if (!port) throw new NoTargetError(`service ${namespace}/${serviceName} has no port ${servicePort}`);
  const selector = selectorString({ matchLabels: service.spec?.selector });
  if (!selector) throw new NoTargetError(`service ${namespace}/${serviceName} selects no pods (it has no selector)`);
  const pods = (await client.list('pods', { namespace, labelSelector: selector })).items;
  const usable = pods.filter(isAppReady).sort((a, b) => Number(isPodReady(b)) - Number(isPodReady(a)) || timeOf(b.metadata?.creationTimestamp) - timeOf(a.metadata?.creationTimestamp));
  const chosen = usable[0];
  if (!chosen) {
    const states = pods.map((p) => `${p.metadata?.name}: ${podReason(p)}`).join(', ');
    throw new NoTargetError(`no ready pod behind service ${namespace}/${serviceName}${states ? ` (${states})` : ' (no pods)'}`);
  }
  const podPort = targetPortIn(chosen, port);
  if (podPort === undefined) throw new NoTargetError(`pod ${chosen.metadata?.name} has no container port named ${String(port.targetPort)}`);
  return { pod: chosen.metadata?.name ?? '', uid: chosen.metadata?.uid ?? '', port: podPort, hasProxy: hasIstioProxy(chosen) };
}

function findServicePort(service: V1Service, wanted: number | string): V1ServicePort | undefined {
  const ports = service.spec?.ports ?? [];
  return typeof wanted === 'number' ? ports.find((p) => p.port === wanted) : ports.find((p) => p.name === wanted);
}

/** The pod port a Service port leads to: its targetPort by number or container port name, else its own number. */
function targetPortIn(pod: V1Pod, port: V1ServicePort): number | undefined {
  const target = port.targetPort;
  if (target === undefined) return port.port;
  if (typeof target === 'number' || /^\d+$/.test(target)) return Number(target);
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  return containers.flatMap((c) => c.ports ?? []).find((p) => p.name === target)?.containerPort;
}

/** Running, not being deleted, and every container but the mesh proxy ready. */
export function isAppReady(pod: V1Pod): boolean {
  if (isTerminating(pod) || pod.status?.phase !== 'Running') return false;
  const app = (pod.status?.containerStatuses ?? []).filter((c) => c.name !== ISTIO_PROXY);
  return app.length > 0 && app.every((c) => c.ready);
}

export function hasIstioProxy(pod: V1Pod): boolean {
  return [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].some((c) => c.name === ISTIO_PROXY);
}

export function isProxyReady(pod: V1Pod): boolean {
  return containerStatuses(pod).some((c) => c.name === ISTIO_PROXY && c.ready);
}
