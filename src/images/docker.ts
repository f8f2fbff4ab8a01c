/**
 * The Docker client ecom builds with (docs/architecture.md, "Images"): the engine is
 * the one in DOCKER_HOST (or the default socket), and the client is one that can run
 * BuildKit builds, which a machine with several clients installed may not have first
 * on PATH (a newer client without its buildx plugin refuses `DOCKER_BUILDKIT=1`).
 */
import { delimiter, join } from 'node:path';
import { PrerequisiteError } from '../core/errors.js';
import { compareVersions, parseVersion, type ToolRunner } from '../tools/tool-runner.js';
import { findExecutable } from '../tools/which.js';

/** Clients before 23.0 build with the engine's own BuildKit when DOCKER_BUILDKIT=1; later ones need buildx. */
const LAST_CLIENT_WITH_BUILTIN_BUILDKIT = '22.99';
const PROBE_TIMEOUT_MS = 10_000;
/** Where Debian's docker.io puts its client, whatever comes first on PATH. */
export const DEBIAN_DOCKER_CLIENT = '/usr/bin/docker';

export interface DockerClient {
  /** Absolute path of the client. */
  path: string;
  clientVersion: string;
  /** How it builds with BuildKit: the buildx plugin, or the engine's builder (client < 23). */
  builder: 'buildx' | 'engine';
}

export interface ClientProbe {
  path: string;
  clientVersion?: string;
  buildx: boolean;
}

/** The candidates in order: ECOM_DOCKER when set, every `docker` on PATH, then Debian's client. */
export function dockerCandidates(env: NodeJS.ProcessEnv, extra: string[] = [DEBIAN_DOCKER_CLIENT]): string[] {
  const onPath = (env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'docker'));
  const wanted = env.ECOM_DOCKER ? [env.ECOM_DOCKER] : [...onPath, ...extra];
  const found = wanted.map((p) => findExecutable(p, env)).filter((p): p is string => p !== undefined);
  return [...new Set(found)];
}

/** Picks the first client able to run a BuildKit build, or says why none is. */
export function chooseClient(probes: ClientProbe[]): DockerClient | undefined {
  for (const probe of probes) {
    if (!probe.clientVersion) continue;
    if (probe.buildx) return { path: probe.path, clientVersion: probe.clientVersion, builder: 'buildx' };
    if (compareVersions(probe.clientVersion, LAST_CLIENT_WITH_BUILTIN_BUILDKIT) <= 0) {
      return { path: probe.path, clientVersion: probe.clientVersion, builder: 'engine' };
    }
  }
  return undefined;
}

async function probeClient(tools: ToolRunner, path: string): Promise<ClientProbe> {
  const [version, buildx] = await Promise.allSettled([
    tools.run(path, ['version', '--format', '{{.Client.Version}}'], { timeoutMs: PROBE_TIMEOUT_MS }),
    tools.run(path, ['buildx', 'version'], { timeoutMs: PROBE_TIMEOUT_MS }),
  ]);
  // `docker version` exits 1 when no engine answers, but it has printed the client's version.
  const versionText =
    version.status === 'fulfilled' ? version.value.stdout : String((version.reason as { detail?: string }).detail ?? '');
  return { path, clientVersion: parseVersion(versionText), buildx: buildx.status === 'fulfilled' };
}

/** A BuildKit-capable client, or exit 3 saying what to install. */
export async function resolveDockerClient(tools: ToolRunner, extra?: string[]): Promise<DockerClient> {
  const candidates = dockerCandidates(tools.env, extra);
  if (candidates.length === 0 && tools.env.ECOM_DOCKER) {
    throw new PrerequisiteError(`ECOM_DOCKER=${tools.env.ECOM_DOCKER} is not an executable docker client`, 'point ECOM_DOCKER at one, or unset it to use the docker on PATH');
  }
  if (candidates.length === 0) tools.require('docker', 'to build the service images');
  const probes = await Promise.all(candidates.map((path) => probeClient(tools, path)));
  const chosen = chooseClient(probes);
  if (chosen) return chosen;
  const seen = probes.map((p) => `${p.path} ${p.clientVersion ?? '(no version)'}`).join(', ');
  throw new PrerequisiteError(
    `no Docker client here can run BuildKit builds (${seen}: newer than 22 and without the buildx plugin)`,
    `install the buildx plugin (${tools.os() === 'macos' ? 'brew install docker-buildx' : 'sudo apt-get install -y docker-buildx'}), ` +
      `or Debian's client (${tools.installCommand('docker')}), or set ECOM_DOCKER to a client that has it`,
  );
}

/** The engine must answer before anything is built: exit 3 with how to start one. */
export async function requireEngine(tools: ToolRunner, client: DockerClient): Promise<string> {
  try {
    const result = await tools.run(client.path, ['version', '--format', '{{.Server.Version}}'], { timeoutMs: PROBE_TIMEOUT_MS });
    return result.stdout.trim();
  } catch (err) {
    const where = tools.env.DOCKER_HOST ? `at DOCKER_HOST=${tools.env.DOCKER_HOST}` : 'on the default socket';
    const why = String((err as { detail?: string }).detail ?? (err as Error).message).split('\n').find((l) => l.trim()) ?? '';
    throw new PrerequisiteError(
      `no Docker engine answers ${where}${why ? `: ${why.trim()}` : ''}`,
      'start the Docker engine (sudo systemctl start docker), or point DOCKER_HOST at one that runs',
    );
  }
}

/** The engine's size of a local image in bytes, or undefined when the engine does not have it. */
export async function localImageSize(tools: ToolRunner, client: DockerClient, reference: string): Promise<number | undefined> {
  try {
    const result = await tools.run(client.path, ['image', 'inspect', '--format', '{{.Size}}', reference], { timeoutMs: PROBE_TIMEOUT_MS });
    const size = Number(result.stdout.trim());
    return Number.isFinite(size) ? size : undefined;
  } catch {
    return undefined;
  }
}
