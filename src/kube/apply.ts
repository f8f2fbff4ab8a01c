/**
 * Applying rendered objects: each one labelled as ecom's (so `down` on a shared
 * cluster deletes only what ecom made) and applied in the given order by server-side
 * apply, so a Namespace exists before what lives in it (docs/architecture.md,
 * "Kubernetes layer").
 */
import { MANAGED_BY_LABEL, MANAGED_BY_SELECTOR, MANAGED_BY_VALUE, type ApplyOutcome, type KubeClient, type KubeObject, type ObjectRef } from './types.js';

/** The object with ecom's managed-by label added (a copy; the input is left alone). */
export function withManagedByLabel(object: KubeObject): KubeObject {
  const copy = structuredClone(object);
  copy.metadata.labels = { ...copy.metadata.labels, [MANAGED_BY_LABEL]: MANAGED_BY_VALUE };
  return copy;
}

export interface AppliedObject {
  ref: ObjectRef;
  outcome: ApplyOutcome;
}

/** Applies in order, one at a time; `onApplied` hears each result as it lands. */
export async function applyObjects(client: KubeClient, objects: KubeObject[], onApplied?: (applied: AppliedObject) => void): Promise<AppliedObject[]> {
  const results: AppliedObject[] = [];
  for (const object of objects) {
    const { outcome } = await client.apply(withManagedByLabel(object));
    const applied = { ref: refOf(object), outcome };
    results.push(applied);
    onApplied?.(applied);
  }
  return results;
}

/** `deployment.apps/catalog` style, as kubectl names objects. */
export function describeRef(ref: ObjectRef): string {
  const group = ref.apiVersion.includes('/') ? `.${ref.apiVersion.split('/')[0]}` : '';
  return `${ref.kind.toLowerCase()}${group}/${ref.name}`;
}

export function refOf(object: KubeObject): ObjectRef {
  const { name, namespace } = object.metadata;
  return namespace === undefined ? { apiVersion: object.apiVersion, kind: object.kind, name } : { apiVersion: object.apiVersion, kind: object.kind, name, namespace };
}

/**
 * Deletes every object of the given kinds that carries ecom's label, in the order of
 * `kinds` (workloads before their namespace), leaving everything else on the cluster.
 */
export async function deleteManagedObjects(
  client: KubeClient,
  kinds: Array<{ apiVersion: string; kind: string }>,
  options: { namespace?: string } = {},
): Promise<ObjectRef[]> {
  const deleted: ObjectRef[] = [];
  for (const { apiVersion, kind } of kinds) {
    const objects = await client.listObjects(apiVersion, kind, { namespace: options.namespace, labelSelector: MANAGED_BY_SELECTOR });
    for (const object of objects) {
      const ref = refOf(object);
      if (await client.delete(ref)) deleted.push(ref);
    }
  }
  return deleted;
}
