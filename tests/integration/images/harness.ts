/**
 * Shared by the image tests: `ecom build --json` through the built CLI against the test
 * engine, and the service images run as a restricted pod would run them.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { DEFAULT_PORTS, type ServiceName } from '../../../src/core/system.js';
import type { ImageResult } from '../../../src/images/build.js';
import { serviceEnv } from '../../../src/runtime/local/service-env.js';
import { cleanEnv, ROOT, runCli } from '../../helpers/cli.js';
import { docker } from '../../helpers/docker.js';
import { eventually } from '../../helpers/services.js';

/** A cold build of all four images on a slow machine. */
export const BUILD_TIMEOUT_MS = 15 * 60_000;
const HEALTH_TIMEOUT_MS = 60_000;
/** The numeric user the Dockerfile gives every image. */
export const IMAGE_USER = '10001:10001';

export interface BuildDocument {
  ok: boolean;
  images: ImageResult[];
}

/** `ecom [-C cwd] build --json <args>` on the test engine; fails with its stderr. */
export function ecomBuild(host: string, args: string[] = [], cwd = ROOT): BuildDocument {
  const run = runCli(['-C', cwd, 'build', '--json', ...args], {
    env: cleanEnv({ DOCKER_HOST: host, CI: 'true' }),
    timeoutMs: BUILD_TIMEOUT_MS,
  });
  if (run.status !== 0) throw new Error(`ecom build ${args.join(' ')} exited ${run.status}:\n${run.stderr.slice(-4000)}`);
  return JSON.parse(run.stdout) as BuildDocument;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Wiring {
  ports: Record<ServiceName, number>;
  databaseUrl: string;
  amqpUrl: string;
  ordersQueue: string;
}

/**
 * The environment each container gets. Until the rendered manifests land, the local
 * runtime's wiring (the same variables each service validates at start); the cluster's
 * addresses are replaced by the test's PostgreSQL, RabbitMQ and the other containers.
 */
export function containerEnv(service: ServiceName, wiring: Wiring): Record<string, string> {
  const env = serviceEnv(service, { ports: wiring.ports, databaseUrl: wiring.databaseUrl, amqpUrl: wiring.amqpUrl }, {});
  if (env.ORDERS_QUEUE) env.ORDERS_QUEUE = wiring.ordersQueue;
  // On the host network, listen on loopback only (the image's own default is 0.0.0.0, for a pod).
  env.HOST = '127.0.0.1';
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

export interface RunningContainer {
  name: string;
  service: ServiceName;
  port: number;
}

/**
 * Starts the image as a restricted pod runs it: its numeric non-root user, read-only
 * root filesystem, every capability dropped, no privilege gain, only /tmp writable.
 */
export async function runHardened(host: string, service: ServiceName, image: string, env: Record<string, string>): Promise<RunningContainer> {
  const name = `ecom-test-${service}-${randomBytes(4).toString('hex')}`;
  await docker(host, [
    'run', '--detach', '--name', name,
    '--network', 'host',
    '--user', IMAGE_USER,
    '--read-only',
    '--cap-drop', 'ALL',
    '--security-opt', 'no-new-privileges',
    '--tmpfs', '/tmp:rw,noexec,nosuid,size=16m',
    '--label', 'ecom.test=images',
    ...Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
    image,
  ]);
  return { name, service, port: Number(env.PORT ?? DEFAULT_PORTS[service]) };
}

/** Waits for 200 on /health; on timeout the error carries the container's last log lines. */
export async function waitHealthy(host: string, container: RunningContainer): Promise<number> {
  const url = `http://127.0.0.1:${container.port}/health`;
  const withLogs = async (message: string) => {
    const logs = await docker(host, ['logs', '--tail', '30', container.name], { withStderr: true }).catch((e: Error) => e.message);
    return new Error(`${message}\n--- docker logs ${container.name} ---\n${logs}`);
  };
  let outcome: number | 'exited';
  try {
    outcome = await eventually(
      async () => {
        const response = await fetch(url, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
        if (response?.status === 200) return 200;
        // A container that exited will never answer: say so now, not after the timeout.
        const running = (await docker(host, ['inspect', '--format', '{{.State.Running}}', container.name])).trim();
        return running === 'false' ? 'exited' : undefined;
      },
      HEALTH_TIMEOUT_MS,
      `${container.service} container answering 200 on ${url}`,
      250,
    );
  } catch (err) {
    throw await withLogs((err as Error).message);
  }
  if (outcome === 'exited') throw await withLogs(`the ${container.service} container exited before answering on ${url}`);
  return outcome;
}

/** The uid the kernel says the container's main process runs as. */
export async function processUid(host: string, container: RunningContainer): Promise<number> {
  const pid = (await docker(host, ['inspect', '--format', '{{.State.Pid}}', container.name])).trim();
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
}

export async function removeContainers(host: string, names: string[]): Promise<void> {
  if (names.length > 0) await docker(host, ['rm', '--force', ...names]).catch(() => {});
}
