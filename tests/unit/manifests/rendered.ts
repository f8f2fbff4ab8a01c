/**
 * The rendered system for the manifest tests: both overlays, fixed image tags (the
 * manifests are under test here, not the tag hashing), real generated secrets.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SERVICE_NAMES, type ServiceName } from '../../../src/core/system.js';
import type { KubeObject } from '../../../src/manifests/objects.js';
import { renderSystem, type Overlay } from '../../../src/manifests/render.js';
import { generateClusterSecrets } from '../../../src/manifests/secrets.js';
import { ROOT } from '../../helpers/cli.js';

export { ROOT };
export const TAGS = Object.fromEntries(SERVICE_NAMES.map((s, i) => [s, `tag${i}${s}`.slice(0, 12)])) as Record<ServiceName, string>;
export const REGISTRY = 'registry.test:5000/team';
export const SECRETS = generateClusterSecrets();

const cache = new Map<string, Promise<KubeObject[]>>();

/** The objects `up` would apply for this overlay, with SECRETS unless redacted. */
export function rendered(overlay: Overlay, redact = false): Promise<KubeObject[]> {
  const key = `${overlay}:${redact}`;
  let objects = cache.get(key);
  if (!objects) {
    objects = renderSystem({ root: ROOT, overlay, registry: REGISTRY, tags: TAGS, secrets: SECRETS, redact });
    cache.set(key, objects);
  }
  return objects.then((list) => structuredClone(list));
}

export function find(objects: KubeObject[], kind: string, namespace: string | undefined, name: string): KubeObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.namespace === namespace && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${namespace ?? ''}/${name} in the rendered objects`);
  return found;
}

export function ofKind(objects: KubeObject[], kind: string): KubeObject[] {
  return objects.filter((o) => o.kind === kind);
}

/** A YAML file of the repository, parsed. */
export function readYaml<T = Record<string, unknown>>(...path: string[]): T {
  return parse(readFileSync(join(ROOT, ...path), 'utf8')) as T;
}

export interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: Record<string, unknown> }[];
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[]; add?: string[] } };
  volumeMounts?: { name: string; mountPath: string }[];
}

export interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: Record<string, unknown> & {
    containers: Container[];
    initContainers?: Container[];
    securityContext?: Record<string, unknown>;
    volumes?: { name: string; emptyDir?: unknown }[];
    serviceAccountName?: string;
    automountServiceAccountToken?: boolean;
  };
}

export function podTemplate(workload: KubeObject): PodTemplate {
  return (workload.spec as { template: PodTemplate }).template;
}

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet'];

export interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** A label selector's verdict on a set of labels (In, NotIn, Exists, DoesNotExist). */
export function selects(selector: Selector, labels: Record<string, string> = {}): boolean {
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    if (operator === 'In') return values.includes(labels[key] ?? '\0');
    if (operator === 'NotIn') return !values.includes(labels[key] ?? '\0');
    if (operator === 'Exists') return key in labels;
    return !(key in labels);
  });
  return byLabels && byExpressions;
}
