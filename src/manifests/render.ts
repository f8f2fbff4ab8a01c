/**
 * The objects `ecom up` applies, in apply order (docs/architecture.md, "Manifests"):
 * the overlay of manifests/ built the way `kubectl kustomize` builds it, each service's
 * image set to its registry and input-hash tag, and the generated Secrets added.
 * Offline and deterministic: no Docker, no cluster, the same tree gives the same objects.
 */
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';
import { SERVICE_NAMES, type ServiceName } from '../core/system.js';
import { normalizeRegistry } from '../images/registry.js';
import { imageRepository } from '../images/tags.js';
import { buildKustomization, parseImage, podContainers, type ImageOverride } from './kustomize.js';
import { objectId, sortForApply, type KubeObject } from './objects.js';
import { secretObjects, type ClusterSecrets } from './secrets.js';

export const OVERLAYS = ['kind', 'context'] as const;
export type Overlay = (typeof OVERLAYS)[number];

export interface RenderSystemOptions {
  /** The repository (or installed package) root that holds manifests/ and dashboards/. */
  root: string;
  overlay: Overlay;
  /** Where the context overlay's images live: `R/ecom/<service>:<tag>`. Required for context. */
  registry?: string;
  /** Each service's image tag (imageTags(root)). */
  tags: Record<ServiceName, string>;
  /** The values of the Secrets; needed unless redact. */
  secrets?: ClusterSecrets;
  /** Show every secret value as `<redacted>`. */
  redact: boolean;
}

export function overlayDir(root: string, overlay: Overlay): string {
  return join(root, 'manifests', 'overlays', overlay);
}

export async function renderSystem(options: RenderSystemOptions): Promise<KubeObject[]> {
  const registry = options.overlay === 'context' ? requireRegistry(options.registry) : undefined;
  if (!options.redact && !options.secrets) throw new Error('renderSystem: secrets are required unless redact is set');
  const imageOverrides: ImageOverride[] = SERVICE_NAMES.map((service) => ({
    name: imageRepository(service),
    newTag: options.tags[service],
    ...(registry ? { newName: `${registry}/${imageRepository(service)}` } : {}),
  }));
  const built = await buildKustomization(overlayDir(options.root, options.overlay), { imageOverrides });
  checkServiceImages(built, options.tags);
  const secrets = secretObjects(options.redact ? 'redacted' : options.secrets!);
  return sortForApply([...built, ...secrets]);
}

/**
 * `registry.example:5000/team` without a scheme or trailing slash; lower case, as image
 * references must be.
 */
export function requireRegistry(registry: string | undefined): string {
  if (registry === undefined || registry.trim() === '') {
    throw new UsageError(
      'the context runtime needs the registry its images are pushed to',
      'pass --registry, e.g. --registry registry.example.com:5000/team',
    );
  }
  return normalizeRegistry(registry);
}

/** Every service's container must have come out with its tag: an overlay that misses one is a bug. */
function checkServiceImages(objects: KubeObject[], tags: Record<ServiceName, string>): void {
  for (const service of SERVICE_NAMES) {
    const deployment = objects.find(
      (o) => o.kind === 'Deployment' && o.metadata.name === service && o.metadata.namespace === 'ecommerce',
    );
    if (!deployment) throw new Error(`the manifests have no Deployment ecommerce/${service}`);
    for (const container of podContainers(deployment)) {
      const image = parseImage(String(container.image));
      const ours = image.name === imageRepository(service) || image.name.endsWith(`/${imageRepository(service)}`);
      if (!ours || image.tag !== tags[service]) {
        throw new Error(`${objectId(deployment)}: image ${String(container.image)} is not ${imageRepository(service)}:${tags[service]}`);
      }
    }
  }
}
