/**
 * Shared by the image tests: `ecom build --json` through the built CLI against the test
 * engine, and the service images run as a restricted pod would run them.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { ServiceName } from '../../../src/core/system.js';
import type { ImageResult } from '../../../src/images/build.js';
import { cleanEnv, ROOT, runCli } from '../../helpers/cli.js';
import { docker } from '../../helpers/docker.js';
import { eventually } from '../../helpers/services.js';
import type { PodTemplate } from './pod-template.js';

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
 * The rendered manifest's environment, with what names the cluster replaced by this
 * test's own: its PostgreSQL and RabbitMQ, the other containers on 127.0.0.1, a free
 * port each (the host network is shared), loopback only, its own queue. Search runs on
 * PostgreSQL: no Elasticsearch runs here (the cluster's setting is SEARCH_BACKEND=elasticsearch).
 */
export function containerEnv(template: PodTemplate, wiring: Wiring): Record<string, string> {
  const env = { ...template.env };
  const replace = (name: string, value: string) => {
    if (name in env) env[name] = value;
  };
  env.PORT = String(wiring.ports[template.service]);
  env.HOST = '127.0.0.1';
  replace('DATABASE_URL', wiring.databaseUrl);
  replace('AMQP_URL', wiring.amqpUrl);
  replace('ORDERS_QUEUE', wiring.ordersQueue);
  replace('CATALOG_URL', `http://127.0.0.1:${wiring.ports.catalog}`);
  replace('SEARCH_URL', `http://127.0.0.1:${wiring.ports.search}`);
  replace('ORDER_URL', `http://127.0.0.1:${wiring.ports.order}`);
  if (env.SEARCH_BACKEND) {
    env.SEARCH_BACKEND = 'postgres';
    delete env.ELASTICSEARCH_URL;
  }
  return env;
}

export interface RunningContainer {
  name: string;
  service: ServiceName;
  port: number;
}

/**
 * Starts the image as its rendered pod template runs it: the template's user, read-only
 * root filesystem, dropped capabilities, no privilege gain, CPU and memory limits, and
 * its emptyDir volumes as tmpfs mounts.
 */
export async function runAsPod(host: string, template: PodTemplate, image: string, env: Record<string, string>): Promise<RunningContainer> {
  const name = `ecom-test-${template.service}-${randomBytes(4).toString('hex')}`;
  await docker(host, [
    'run', '--detach', '--name', name,
    '--network', 'host',
    '--label', 'ecom.test=images',
    ...template.dockerFlags,
    ...Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
    image,
  ]);
  return { name, service: template.service, port: Number(env.PORT) };
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
