/**
 * Asks a registry whether it holds a tag, through its own HTTP API (distribution spec
 * v2): `HEAD /v2/<repository>/manifests/<tag>`. docs/architecture.md, "Images": a tag
 * the registry has is neither built nor pushed again.
 */
import { UsageError } from '../core/errors.js';

/** The manifest types docker pushes; without them a registry may answer 404 for an image it has. */
const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');
const REQUEST_TIMEOUT_MS = 10_000;

export interface RegistryLocation {
  /** `127.0.0.1:5050`, `registry.example.com` */
  host: string;
  /** The path part of the registry reference, prefixed to every repository (`team`). */
  namespace: string;
}

const REGISTRY_PATTERN = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;

/** `registry.example.com:5000/team`: a host, an optional port and path, lower case, no scheme. */
export function normalizeRegistry(registry: string): string {
  const trimmed = registry.trim().replace(/\/+$/, '');
  if (!REGISTRY_PATTERN.test(trimmed)) {
    throw new UsageError(
      `"${registry}" is not a registry reference`,
      'give a host with an optional port and path, in lower case and without a scheme, e.g. 127.0.0.1:5050 or registry.example.com/team',
    );
  }
  return trimmed;
}

/** `registry.example.com:5000/team` → host and namespace. */
export function parseRegistry(registry: string): RegistryLocation {
  const [host, ...rest] = registry.replace(/\/+$/, '').split('/');
  return { host: host!, namespace: rest.join('/') };
}

/**
 * Docker itself talks plain HTTP to a registry on the loopback interface and TLS to
 * anything else (unless configured otherwise); the API check does the same.
 */
export function registryBaseUrl(host: string): string {
  const name = host.replace(/:\d+$/, '');
  const loopback = name === 'localhost' || /^127\./.test(name) || name === '[::1]';
  return `${loopback ? 'http' : 'https'}://${host}`;
}

export type TagPresence = 'present' | 'absent' | 'unknown';

export interface TagCheck {
  presence: TagPresence;
  /** Why the answer is unknown (an auth challenge, an unreachable registry). */
  reason?: string;
}

/**
 * Whether `registry` holds `repository:tag`. A registry that wants credentials (401)
 * or does not answer gives `unknown`: the image is then pushed, which docker does
 * layer by layer without re-sending what the registry already has.
 */
export async function registryHasTag(
  registry: string,
  repository: string,
  tag: string,
  fetchImpl: typeof fetch = fetch,
): Promise<TagCheck> {
  const { host, namespace } = parseRegistry(registry);
  const path = namespace ? `${namespace}/${repository}` : repository;
  const url = `${registryBaseUrl(host)}/v2/${path}/manifests/${encodeURIComponent(tag)}`;
  try {
    const response = await fetchImpl(url, {
      method: 'HEAD',
      headers: { Accept: MANIFEST_TYPES },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    if (response.status === 200) return { presence: 'present' };
    if (response.status === 404) return { presence: 'absent' };
    return { presence: 'unknown', reason: `HEAD ${url} answered ${response.status}` };
  } catch (err) {
    return { presence: 'unknown', reason: `HEAD ${url} failed: ${(err as Error).message}` };
  }
}
