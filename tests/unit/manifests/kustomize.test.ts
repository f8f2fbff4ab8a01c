import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { applyJsonPatch } from '../../../src/manifests/json-patch.js';
import { buildKustomization, parseImage, podContainers } from '../../../src/manifests/kustomize.js';
import { objectId, type KubeObject } from '../../../src/manifests/objects.js';
import { OVERLAYS, overlayDir, type Overlay } from '../../../src/manifests/render.js';
import { REGISTRY, rendered, ROOT } from './rendered.js';

const KUBECTL_INSTALL = 'install kubectl (https://kubernetes.io/docs/tasks/tools/, or `apt-get install kubectl` from the Kubernetes apt repository)';

/** `kubectl kustomize dir`, parsed; fails naming kubectl when it is missing. */
function kubectlKustomize(dir: string): KubeObject[] {
  const result = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 60_000 });
  if (result.error && (result.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error(`kubectl is not installed: ${KUBECTL_INSTALL}; this test compares ecom render with kubectl kustomize`);
  }
  if (result.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${result.stderr}`);
  return parseAllDocuments(result.stdout).flatMap((d) => (Array.isArray(d) ? [] : [d.toJS() as KubeObject]));
}

/** Service images without what render adds on top of kustomize: the tag, and the context registry. */
function withoutRenderedImageParts(objects: KubeObject[], overlay: Overlay): KubeObject[] {
  return objects.map((object) => {
    const copy = structuredClone(object);
    for (const container of podContainers(copy)) {
      const image = parseImage(String(container.image));
      if (!/(^|\/)ecom\/[a-z]+$/.test(image.name)) continue;
      container.image = overlay === 'context' ? image.name.replace(`${REGISTRY}/`, '') : image.name;
    }
    return copy;
  });
}

const byId = (objects: KubeObject[]) => new Map(objects.map((o) => [objectId(o), o]));

describe('the kustomize layout and ecom render', () => {
  for (const overlay of OVERLAYS) {
    it(`kubectl kustomize manifests/overlays/${overlay} gives the objects render gives, apart from image tags and Secrets`, async () => {
      const fromKubectl = byId(kubectlKustomize(overlayDir(ROOT, overlay)));
      const ours = await rendered(overlay);
      // Secrets are generated values: render adds them, the files never hold them.
      expect(ours.filter((o) => o.kind === 'Secret').length).toBeGreaterThan(0);
      expect([...fromKubectl.values()].filter((o) => o.kind === 'Secret')).toEqual([]);
      const fromRender = byId(withoutRenderedImageParts(ours.filter((o) => o.kind !== 'Secret'), overlay));
      expect([...fromRender.keys()].sort()).toEqual([...fromKubectl.keys()].sort());
      for (const [id, object] of fromRender) expect(object, id).toEqual(fromKubectl.get(id));
    });
  }

  it('render sets each service image to its registry and tag', async () => {
    const images = (objects: KubeObject[]) =>
      objects.filter((o) => o.kind === 'Deployment').map((o) => [o.metadata.name, podContainers(o)[0]!.image]);
    expect(Object.fromEntries(images(await rendered('kind')))).toEqual({
      catalog: 'localhost:5050/ecom/catalog:tag0catalog',
      search: 'localhost:5050/ecom/search:tag1search',
      order: 'localhost:5050/ecom/order:tag2order',
      frontend: 'localhost:5050/ecom/frontend:tag3frontend',
    });
    expect(Object.fromEntries(images(await rendered('context')))).toMatchObject({
      catalog: `${REGISTRY}/ecom/catalog:tag0catalog`,
    });
  });
});

describe('the TypeScript kustomize subset', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ecom-kustomize-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (path: string, text: string) => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  };

  it('refuses a field it does not implement instead of ignoring it', async () => {
    write('a/kustomization.yaml', 'resources: []\nnamePrefix: x-\n');
    await expect(buildKustomization(join(dir, 'a'))).rejects.toThrow(/unsupported kustomize field\(s\) namePrefix/);
  });

  it('refuses a generator whose name would carry a hash', async () => {
    write('b/kustomization.yaml', 'configMapGenerator:\n  - name: c\n    literals: [A=1]\n');
    await expect(buildKustomization(join(dir, 'b'))).rejects.toThrow(/disableNameSuffixHash/);
  });

  it('refuses a patch that matches nothing and an object defined twice', async () => {
    write('c/cm.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: n}\n');
    write('c/kustomization.yaml', 'resources: [cm.yaml]\npatches:\n  - target: {kind: ConfigMap, name: y}\n    patch: "[]"\n');
    await expect(buildKustomization(join(dir, 'c'))).rejects.toThrow(/matches no object/);
    write('d/kustomization.yaml', 'resources: [../c/cm.yaml, ../c/cm.yaml]\n');
    await expect(buildKustomization(join(dir, 'd'))).rejects.toThrow(/ConfigMap n\/x is defined twice/);
  });

  it('splits image references into name, tag and digest', () => {
    expect(parseImage('postgres:17-alpine')).toEqual({ name: 'postgres', tag: '17-alpine', digest: undefined });
    expect(parseImage('localhost:5050/ecom/catalog')).toEqual({ name: 'localhost:5050/ecom/catalog', tag: undefined, digest: undefined });
    expect(parseImage('localhost:5050/ecom/order:abc@sha256:ff')).toEqual({ name: 'localhost:5050/ecom/order', tag: 'abc', digest: 'sha256:ff' });
  });

  it('applies JSON patches to a copy: add, replace, remove, array indexes', () => {
    const original = { spec: { minReplicas: 1, list: ['a', 'c'] }, gone: true };
    const patched = applyJsonPatch(original, [
      { op: 'replace', path: '/spec/minReplicas', value: 2 },
      { op: 'add', path: '/spec/list/1', value: 'b' },
      { op: 'add', path: '/spec/list/-', value: 'd' },
      { op: 'remove', path: '/gone' },
    ]);
    expect(patched).toEqual({ spec: { minReplicas: 2, list: ['a', 'b', 'c', 'd'] } });
    expect(original.spec.minReplicas).toBe(1);
    expect(() => applyJsonPatch(original, [{ op: 'replace', path: '/spec/nope', value: 1 }])).toThrow(/does not exist/);
  });
});
