/**
 * The environment a container of a rendered workload gets, worked out the way the
 * kubelet does (docs/architecture.md, "Manifests"): envFrom first, then env in order,
 * with ConfigMap and Secret references resolved against the rendered objects and
 * `$(VAR)` expanded from what is defined before. Drift tests check it against each
 * service's configuration schema; a harness running a pod template as a container uses
 * it to start that container.
 */
import { objectId, type KubeObject } from './objects.js';
import { podSpec } from './kustomize.js';

interface KeyRef {
  name: string;
  key: string;
  optional?: boolean;
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { configMapKeyRef?: KeyRef; secretKeyRef?: KeyRef; fieldRef?: unknown; resourceFieldRef?: unknown };
}

interface EnvFromSource {
  prefix?: string;
  configMapRef?: { name: string; optional?: boolean };
  secretRef?: { name: string; optional?: boolean };
}

/** Values of a ConfigMap's `data` or a Secret's `stringData`/`data` (base64), by name in a namespace. */
function sourceValues(objects: KubeObject[], kind: 'ConfigMap' | 'Secret', namespace: string, name: string): Record<string, string> | undefined {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name && (o.metadata.namespace ?? 'default') === namespace);
  if (!found) return undefined;
  if (kind === 'ConfigMap') return { ...((found.data as Record<string, string>) ?? {}) };
  const decoded = Object.entries((found.data as Record<string, string>) ?? {}).map(
    ([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')] as const,
  );
  return { ...Object.fromEntries(decoded), ...((found.stringData as Record<string, string>) ?? {}) };
}

/** `$(NAME)` from what is already defined; `$$` escapes; an unknown name stays as written. */
export function expandReferences(value: string, defined: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([-._a-zA-Z][-._a-zA-Z0-9]*)\)/g, (match, name: string | undefined) => {
    if (name === undefined) return '$';
    return Object.hasOwn(defined, name) ? defined[name]! : match;
  });
}

/**
 * The environment of `containerName` in `workload` (its first container by default).
 * A reference to a ConfigMap, Secret or key the objects do not hold throws, unless the
 * reference is optional: that is what keeps a pod from starting.
 */
export function resolveContainerEnv(workload: KubeObject, objects: KubeObject[], containerName?: string): Record<string, string> {
  const namespace = workload.metadata.namespace ?? 'default';
  const containers = podSpec(workload)?.containers ?? [];
  const container = containerName ? containers.find((c) => c.name === containerName) : containers[0];
  if (!container) throw new Error(`${objectId(workload)}: no container ${containerName ?? ''}`.trim());
  const env: Record<string, string> = {};
  const missing = (what: string) => new Error(`${objectId(workload)}: ${what} does not exist in the rendered objects`);

  for (const source of (container.envFrom as EnvFromSource[] | undefined) ?? []) {
    const ref = source.configMapRef ?? source.secretRef;
    if (!ref) continue;
    const kind = source.configMapRef ? 'ConfigMap' : 'Secret';
    const values = sourceValues(objects, kind, namespace, ref.name);
    if (!values) {
      if (ref.optional) continue;
      throw missing(`${kind} ${namespace}/${ref.name}`);
    }
    for (const [key, value] of Object.entries(values)) env[`${source.prefix ?? ''}${key}`] = value;
  }
  for (const variable of (container.env as EnvVar[] | undefined) ?? []) {
    const value = resolveVariable(variable, objects, namespace, env, missing);
    if (value !== undefined) env[variable.name] = value;
  }
  return env;
}

function resolveVariable(
  variable: EnvVar,
  objects: KubeObject[],
  namespace: string,
  defined: Record<string, string>,
  missing: (what: string) => Error,
): string | undefined {
  if (variable.value !== undefined) return expandReferences(String(variable.value), defined);
  const from = variable.valueFrom;
  const ref = from?.configMapKeyRef ?? from?.secretKeyRef;
  if (!ref) {
    if (from) throw new Error(`${variable.name}: only ConfigMap and Secret references can be resolved offline`);
    return '';
  }
  const kind = from?.configMapKeyRef ? 'ConfigMap' : 'Secret';
  const value = sourceValues(objects, kind, namespace, ref.name)?.[ref.key];
  if (value === undefined && !ref.optional) throw missing(`key ${ref.key} of ${kind} ${namespace}/${ref.name}`);
  return value;
}
