/**
 * The Docker engine tests use: a private engine started by .ci/docker-engine.sh (own
 * socket, data and exec root), never a user's. A test that needs it FAILS, naming the
 * script to run, when it does not answer; it never skips.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DEFAULT_TEST_DOCKER_HOST = 'unix:///run/ecom-test-docker/docker.sock';
/** Debian's client: it builds with the engine's BuildKit (the newer client here lacks buildx). */
export const TEST_DOCKER_CLIENT = '/usr/bin/docker';
const PING_TIMEOUT_MS = 3_000;
const DOCKER_COMMAND_TIMEOUT_MS = 120_000;

/** ECOM_TEST_DOCKER_HOST when set (.ci/run exports it), the private engine's socket otherwise. */
export function testDockerHost(): string {
  return process.env.ECOM_TEST_DOCKER_HOST || DEFAULT_TEST_DOCKER_HOST;
}

export interface ApiResponse {
  status: number;
  body: string;
}

/** One request to the Engine API (unix:// or tcp:// DOCKER_HOST). */
export function dockerApi(host: string, method: string, path: string, timeoutMs = DOCKER_COMMAND_TIMEOUT_MS): Promise<ApiResponse> {
  const target = host.startsWith('unix://')
    ? { socketPath: host.slice('unix://'.length) }
    : { host: new URL(host.replace(/^tcp:/, 'http:')).hostname, port: Number(new URL(host.replace(/^tcp:/, 'http:')).port) };
  return new Promise((resolve, reject) => {
    const req = request({ ...target, method, path, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** The test engine's DOCKER_HOST, or an error saying how to start it. */
export async function requireTestDocker(): Promise<string> {
  const host = testDockerHost();
  const start = `start it with \`sudo .ci/docker-engine.sh\` (needs Debian's docker.io: apt-get install -y docker.io), or set ECOM_TEST_DOCKER_HOST`;
  if (!existsSync(TEST_DOCKER_CLIENT)) {
    throw new Error(`Debian's docker client ${TEST_DOCKER_CLIENT} is missing: apt-get install -y docker.io, then ${start}`);
  }
  let answer: ApiResponse;
  try {
    answer = await dockerApi(host, 'GET', '/_ping', PING_TIMEOUT_MS);
  } catch (err) {
    throw new Error(`no test Docker engine answers at ${host} (${(err as Error).message}); ${start}`);
  }
  if (answer.status !== 200) throw new Error(`the test Docker engine at ${host} answered /_ping with ${answer.status}; ${start}`);
  return host;
}

/** The image the Dockerfile builds FROM (`node:20-bookworm-slim`). */
export function dockerfileBaseImage(): string {
  const from = /^FROM\s+(\S+)/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
  if (!from) throw new Error('the Dockerfile has no FROM line');
  return from;
}

/** The locally made base images must exist: no image registry is reachable here. */
export async function requireBaseImages(host: string, images = [dockerfileBaseImage(), 'registry:2']): Promise<void> {
  for (const image of images) {
    const found = await dockerApi(host, 'GET', `/images/${encodeURIComponent(image)}/json`);
    if (found.status !== 200) {
      throw new Error(
        `base image ${image} is missing on the test engine at ${host}; make it with ` +
          `\`DOCKER_HOST=${host} .ci/base-images.sh\` (debootstrap, docker-registry: apt-get install -y debootstrap docker-registry)`,
      );
    }
  }
}

export interface ImageDetails {
  Id: string;
  Created: string;
  Size: number;
  Config: { User?: string; Entrypoint?: string[] | null; Cmd?: string[] | null; Env?: string[]; ExposedPorts?: Record<string, unknown> };
}

/** What the engine says about an image, or undefined when it does not have it. */
export async function inspectImage(host: string, reference: string): Promise<ImageDetails | undefined> {
  const found = await dockerApi(host, 'GET', `/images/${encodeURIComponent(reference)}/json`);
  if (found.status === 404) return undefined;
  if (found.status !== 200) throw new Error(`GET /images/${reference}/json answered ${found.status}: ${found.body}`);
  return JSON.parse(found.body) as ImageDetails;
}

/** Runs Debian's docker client against the test engine: its stdout (plus stderr with `withStderr`); rejects with its stderr. */
export function docker(host: string, args: string[], options: { timeoutMs?: number; withStderr?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      TEST_DOCKER_CLIENT,
      args,
      { env: { ...process.env, DOCKER_HOST: host }, timeout: options.timeoutMs ?? DOCKER_COMMAND_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`docker ${args.join(' ')} failed: ${stderr.trim() || err.message}`));
        else resolve(options.withStderr ? stdout + stderr : stdout);
      },
    );
  });
}
