/**
 * Offline schema checks: each object is validated by the kubernetes-models (or
 * @kubernetes-models/istio) class of its apiVersion and kind. A kind neither package
 * knows is an error, never a pass.
 */
import * as kubernetes from 'kubernetes-models';
import * as istio from '@kubernetes-models/istio';

interface ModelClass {
  apiVersion: string;
  kind: string;
  new (data: unknown): { validate(): void };
}

const MODELS = new Map<string, ModelClass>();

function collect(namespace: unknown, depth: number): void {
  for (const value of Object.values(namespace as Record<string, unknown>)) {
    const model = value as Partial<ModelClass>;
    if (typeof value === 'function' && typeof model.apiVersion === 'string' && typeof model.kind === 'string') {
      MODELS.set(`${model.apiVersion}/${model.kind}`, value as ModelClass);
    } else if (value && typeof value === 'object' && depth > 0) {
      collect(value, depth - 1);
    }
  }
}
// Packages are namespaced by group, then version: kubernetes.apps.v1.Deployment.
collect(kubernetes, 3);
collect(istio, 3);

/** Throws naming the object and the first schema violation, or the unknown kind. */
export function validateObject(object: { apiVersion?: unknown; kind?: unknown; metadata?: { name?: string; namespace?: string } }): void {
  const id = `${String(object.kind)} ${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
  const model = MODELS.get(`${String(object.apiVersion)}/${String(object.kind)}`);
  if (!model) throw new Error(`${id}: unknown kind ${String(object.apiVersion)}/${String(object.kind)} (no schema to validate it against)`);
  try {
    new model(object).validate();
  } catch (err) {
    throw new Error(`${id}: ${(err as Error).message}`);
  }
}

/** Every violation in a list, as text (empty when all objects are valid). */
export function schemaViolations(objects: object[]): string[] {
  const problems: string[] = [];
  for (const object of objects) {
    try {
      validateObject(object);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  return problems;
}
