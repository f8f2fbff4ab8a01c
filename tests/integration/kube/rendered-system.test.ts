import { describe, expect, it } from 'vitest';
import { imageTags } from '../../../src/images/tags.js';
import { applyObjects } from '../../../src/kube/apply.js';
import { waitForRollouts } from '../../../src/kube/rollout.js';
import { renderSystem } from '../../../src/manifests/render.js';
import { generateClusterSecrets } from '../../../src/manifests/secrets.js';
import { ROOT } from '../../helpers/cli.js';
import { useFakeCluster } from './setup.js';

const kube = useFakeCluster();

describe('the rendered system against the in-test API server', () => {
  it('every object of the kind overlay applies, a second apply changes nothing, and every workload rolls out', async () => {
    const objects = await renderSystem({ root: ROOT, overlay: 'kind', tags: await imageTags(ROOT), secrets: generateClusterSecrets(), redact: false });

    const first = await applyObjects(kube.client, objects);
    expect(first.every((r) => r.outcome === 'created')).toBe(true);
    const second = await applyObjects(kube.client, objects);
    expect(second.filter((r) => r.outcome !== 'unchanged')).toEqual([]);
    // Nothing was lost on the way: the client sends every field the manifests have.
    for (const object of objects.filter((o) => o.kind !== 'Secret')) {
      const { apiVersion, kind, metadata } = object;
      const stored = await kube.client.get({ apiVersion, kind, name: metadata.name, namespace: metadata.namespace });
      expect(JSON.parse(JSON.stringify(stored)), `${kind} ${metadata.name}`).toMatchObject(JSON.parse(JSON.stringify(object)));
    }

    const result = await waitForRollouts(kube.client, objects, { timeoutMs: 20_000, pollIntervalMs: 100 });
    expect(result.outcome).toBe('ready');
    if (result.outcome === 'ready') expect(result.workloads.length).toBeGreaterThanOrEqual(4);
  });
});
