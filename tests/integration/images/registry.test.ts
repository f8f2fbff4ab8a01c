/**
 * `ecom build --registry R --push` against a real registry: the `registry:2` image (made
 * from Debian's docker-registry by .ci/base-images.sh) running on the test engine,
 * published on 127.0.0.1. What was pushed is asserted from the registry's own API and
 * access log, not from ecom's output.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_NAMES } from '../../../src/core/system.js';
import { docker, requireBaseImages, requireTestDocker } from '../../helpers/docker.js';
import { eventually } from '../../helpers/services.js';
import { BUILD_TIMEOUT_MS, ecomBuild, freePort, removeContainers, type BuildDocument } from './harness.js';

let host: string;
let registry: string;
let local: BuildDocument;
const registryContainer = `ecom-test-registry-${randomBytes(4).toString('hex')}`;
let started = false;
const REQUEST_TIMEOUT_MS = 2_000;

/** A bounded request: a connection accepted by the port publisher before the registry listens may never be answered. */
const registryGet = (path: string) => fetch(`http://${registry}${path}`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });

/** The requests the registry logged that write something: blob uploads and manifest puts. */
async function writesLogged(): Promise<string[]> {
  const log = await docker(host, ['logs', registryContainer], { withStderr: true });
  return log.split('\n').filter((line) => /"(PUT|POST|PATCH) \/v2\//.test(line));
}

beforeAll(async () => {
  host = await requireTestDocker();
  await requireBaseImages(host);
  local = ecomBuild(host);
  const port = await freePort();
  registry = `127.0.0.1:${port}`;
  await docker(host, ['run', '--detach', '--name', registryContainer, '--publish', `${registry}:5000`, '--label', 'ecom.test=images', 'registry:2']);
  started = true;
  await eventually(async () => ((await registryGet('/v2/')).status === 200 ? true : undefined), 30_000, `registry on ${registry}`, 200);
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  if (!started) return;
  await removeContainers(host, [registryContainer]);
  const pushedNames = local.images.map((i) => `${registry}/${i.repository}:${i.tag}`);
  await docker(host, ['image', 'rm', ...pushedNames]).catch(() => {});
});

describe('ecom build --push', () => {
  it('pushes every image under its input-hash tag, and a repeated push sends the registry nothing', async () => {
    const pushed = ecomBuild(host, ['--registry', registry, '--push']);
    expect(pushed.images.map((i) => i.reference)).toEqual(local.images.map((i) => `${registry}/${i.repository}:${i.tag}`));
    // Built earlier without --registry: tagged and pushed, not built again.
    for (const image of pushed.images) expect(['pushed', 'built and pushed']).toContain(image.action);

    const catalog = (await (await registryGet('/v2/_catalog')).json()) as { repositories: string[] };
    expect(catalog.repositories).toEqual(expect.arrayContaining(SERVICE_NAMES.map((s) => `ecom/${s}`)));
    for (const image of local.images) {
      const tags = (await (await registryGet(`/v2/${image.repository}/tags/list`)).json()) as { tags: string[] };
      expect(tags.tags).toEqual([image.tag]);
    }
    const writesAfterPush = await writesLogged();
    expect(writesAfterPush.filter((line) => line.includes('/manifests/'))).toHaveLength(SERVICE_NAMES.length);

    const again = ecomBuild(host, ['--registry', registry, '--push']);
    // The registry's word first: nothing written by the second run.
    expect(await writesLogged()).toEqual(writesAfterPush);
    expect(again.images.map((i) => `${i.service} ${i.action} ${i.reason}`)).toEqual(SERVICE_NAMES.map((s) => `${s} skipped in the registry`));
    const log = await docker(host, ['logs', registryContainer], { withStderr: true });
    for (const image of local.images) expect(log).toContain(`"HEAD /v2/${image.repository}/manifests/${image.tag} HTTP/1.1" 200`);
  }, BUILD_TIMEOUT_MS);
});
