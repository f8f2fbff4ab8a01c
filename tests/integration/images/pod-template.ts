/**
 * What each service's rendered Deployment asks of its container (`ecom render`'s kind
 * overlay, with generated secrets): the environment, resolved the way the kubelet does,
 * and the security context, resources and writable volumes, turned into `docker run`
 * flags so the image runs here as the cluster would run it.
 */
import type { ServiceName } from '../../../src/core/system.js';
import { resolveContainerEnv } from '../../../src/manifests/container-env.js';
import { podSpec } from '../../../src/manifests/kustomize.js';
import type { KubeObject } from '../../../src/manifests/objects.js';
import { renderSystem } from '../../../src/manifests/render.js';
import { generateClusterSecrets } from '../../../src/manifests/secrets.js';

interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
}

interface ContainerSpec {
  name: string;
  securityContext?: SecurityContext;
  resources?: { limits?: { cpu?: string; memory?: string } };
  volumeMounts?: { name: string; mountPath: string }[];
}

export interface PodTemplate {
  service: ServiceName;
  /** The container's environment with ConfigMap and Secret references resolved. */
  env: Record<string, string>;
  /** `uid:gid` from the pod's (or container's) securityContext, when it names one. */
  user?: string;
  runAsNonRoot: boolean;
  /** The `docker run` flags for the security context, limits and emptyDir mounts. */
  dockerFlags: string[];
}

/** `500m` → `0.5`, `2` → `2`. */
function cpus(quantity: string): string {
  return quantity.endsWith('m') ? String(Number(quantity.slice(0, -1)) / 1000) : quantity;
}

/** `256Mi` → `256m` (docker's binary units), `1Gi` → `1g`. */
function dockerMemory(quantity: string): string {
  const match = /^(\d+)(Ki|Mi|Gi)?$/.exec(quantity);
  if (!match) throw new Error(`memory limit ${quantity} is not in Ki/Mi/Gi`);
  return `${match[1]}${{ Ki: 'k', Mi: 'm', Gi: 'g' }[match[2] as 'Ki' | 'Mi' | 'Gi'] ?? 'b'}`;
}

function dockerFlags(container: ContainerSpec, security: SecurityContext, volumes: Record<string, { sizeLimit?: string }>): string[] {
  const flags: string[] = [];
  if (security.runAsUser !== undefined) flags.push('--user', `${security.runAsUser}:${security.runAsGroup ?? security.runAsUser}`);
  if (security.readOnlyRootFilesystem) flags.push('--read-only');
  for (const cap of security.capabilities?.drop ?? []) flags.push('--cap-drop', cap);
  for (const cap of security.capabilities?.add ?? []) flags.push('--cap-add', cap);
  if (security.allowPrivilegeEscalation === false) flags.push('--security-opt', 'no-new-privileges');
  const limits = container.resources?.limits ?? {};
  if (limits.cpu) flags.push('--cpus', cpus(limits.cpu));
  if (limits.memory) flags.push('--memory', dockerMemory(limits.memory));
  for (const mount of container.volumeMounts ?? []) {
    const volume = volumes[mount.name];
    if (!volume) throw new Error(`${container.name}: volume ${mount.name} is not an emptyDir this harness can give`);
    const size = volume.sizeLimit ? `,size=${dockerMemory(volume.sizeLimit)}` : '';
    flags.push('--tmpfs', `${mount.mountPath}:rw,nosuid,nodev${size}`);
  }
  return flags;
}

function templateOf(service: ServiceName, deployment: KubeObject, objects: KubeObject[]): PodTemplate {
  const pod = podSpec(deployment) as
    | { securityContext?: SecurityContext; containers: ContainerSpec[]; volumes?: { name: string; emptyDir?: { sizeLimit?: string } }[] }
    | undefined;
  const container = pod?.containers.find((c) => c.name === service);
  if (!pod || !container) throw new Error(`Deployment ecommerce/${service} has no container ${service}`);
  const security: SecurityContext = { ...pod.securityContext, ...container.securityContext };
  const volumes = Object.fromEntries((pod.volumes ?? []).filter((v) => v.emptyDir).map((v) => [v.name, v.emptyDir!]));
  return {
    service,
    env: resolveContainerEnv(deployment, objects, service),
    user: security.runAsUser === undefined ? undefined : `${security.runAsUser}:${security.runAsGroup ?? security.runAsUser}`,
    runAsNonRoot: security.runAsNonRoot === true,
    dockerFlags: dockerFlags(container, security, volumes),
  };
}

/** Each service's pod template from `ecom render --runtime kind`, with freshly generated secrets. */
export async function renderedPodTemplates(root: string, tags: Record<ServiceName, string>, services: readonly ServiceName[]): Promise<Record<ServiceName, PodTemplate>> {
  const objects = await renderSystem({ root, overlay: 'kind', tags, secrets: generateClusterSecrets(), redact: false });
  const templates = services.map((service) => {
    const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === service && o.metadata.namespace === 'ecommerce');
    if (!deployment) throw new Error(`ecom render gave no Deployment ecommerce/${service}`);
    return [service, templateOf(service, deployment, objects)] as const;
  });
  return Object.fromEntries(templates) as Record<ServiceName, PodTemplate>;
}
