/**
 * Kubernetes objects as plain data, and the order `ecom up` applies them in
 * (docs/architecture.md, "Manifests").
 */

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [field: string]: unknown;
}

/** Any Kubernetes object, as parsed from YAML. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** `Deployment ecommerce/catalog`: how errors and tests name an object. */
export function objectId(object: KubeObject): string {
  const { namespace, name } = object.metadata;
  return `${object.kind} ${namespace ? `${namespace}/` : ''}${name}`;
}

/**
 * The phases of an apply, in order, each with the kinds it holds (in order too).
 * Namespaces first; then what other objects point at but which starts nothing (accounts,
 * Services, NetworkPolicies); configuration; Secrets; the workloads, which start pods
 * that read all of the above; Istio's objects last, as they need Istio's CRDs.
 */
export const APPLY_PHASES = [
  { phase: 'namespaces', kinds: ['Namespace'] },
  { phase: 'infrastructure', kinds: ['ServiceAccount', 'Service', 'NetworkPolicy'] },
  { phase: 'config', kinds: ['ConfigMap'] },
  { phase: 'secrets', kinds: ['Secret'] },
  { phase: 'workloads', kinds: ['StatefulSet', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget'] },
  {
    phase: 'istio',
    kinds: ['PeerAuthentication', 'AuthorizationPolicy', 'DestinationRule', 'Gateway', 'VirtualService'],
  },
] as const;

export type ApplyPhase = (typeof APPLY_PHASES)[number]['phase'];

const KIND_RANK = new Map<string, { phase: ApplyPhase; rank: number }>(
  APPLY_PHASES.flatMap(({ phase, kinds }, p) => kinds.map((kind, k) => [kind, { phase, rank: p * 100 + k }] as const)),
);

/** The phase an object is applied in; an object of a kind no phase names is a bug in the manifests. */
export function applyPhase(object: KubeObject): ApplyPhase {
  const entry = KIND_RANK.get(object.kind);
  if (!entry) throw new Error(`${objectId(object)}: no apply phase for kind ${object.kind} (add it to APPLY_PHASES)`);
  return entry.phase;
}

/** Objects in apply order: by phase, kind within the phase, then namespace and name. */
export function sortForApply(objects: KubeObject[]): KubeObject[] {
  for (const object of objects) applyPhase(object);
  const key = (o: KubeObject) => [KIND_RANK.get(o.kind)!.rank, o.metadata.namespace ?? '', o.metadata.name] as const;
  return [...objects].sort((a, b) => {
    const [ra, na, ma] = key(a);
    const [rb, nb, mb] = key(b);
    return ra - rb || compareText(na, nb) || compareText(ma, mb);
  });
}

/** Code-point order, the same on every machine (localeCompare is not). */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
