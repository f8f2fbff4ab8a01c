import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { imageRepository, imageTags } from '../../../src/images/tags.js';
import { SERVICE_NAMES } from '../../../src/core/system.js';

const roots: string[] = [];

function write(root: string, path: string, content: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}

/** A small tree shaped like the repository: root files, common and four services. */
function makeTree(): string {
  const root = mkdtempSync(join(tmpdir(), 'ecom-tags-'));
  roots.push(root);
  write(root, 'Dockerfile', 'FROM node:20-bookworm-slim\n');
  write(root, '.dockerignore', 'node_modules\n');
  write(root, 'package.json', '{"name":"ecom"}\n');
  write(root, 'package-lock.json', '{}\n');
  write(root, 'tsconfig.json', '{}\n');
  write(root, 'tsup.config.ts', 'export default {};\n');
  write(root, 'src/services/common/logger.ts', 'export const a = 1;\n');
  write(root, 'src/services/common/db/migrations/001_products.sql', 'create table products();\n');
  for (const service of SERVICE_NAMES) write(root, `src/services/${service}/main.ts`, `// ${service}\n`);
  write(root, 'src/cli/main.ts', '// not an image input\n');
  return root;
}

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe('imageTags', () => {
  it('gives the same tags for the same tree, and distinct short hex tags per service', async () => {
    const root = makeTree();
    const first = await imageTags(root);
    const again = await imageTags(root);
    expect(again).toEqual(first);
    // Another directory with identical content: the tag depends on content, not location.
    expect(await imageTags(makeTree())).toEqual(first);
    for (const service of SERVICE_NAMES) expect(first[service]).toMatch(/^[0-9a-f]{12}$/);
    expect(new Set(Object.values(first)).size).toBe(SERVICE_NAMES.length);
  });

  it("changes only that service's tag when one of its files changes or is added", async () => {
    const root = makeTree();
    const before = await imageTags(root);
    write(root, 'src/services/order/main.ts', '// order, edited\n');
    const edited = await imageTags(root);
    expect(edited.order).not.toBe(before.order);
    expect({ ...edited, order: before.order }).toEqual(before);

    write(root, 'src/services/search/extra.ts', 'export {};\n');
    const added = await imageTags(root);
    expect(added.search).not.toBe(edited.search);
    expect({ ...added, search: edited.search }).toEqual(edited);
  });

  it('changes every tag when common code, the Dockerfile or the lockfile changes', async () => {
    for (const path of ['src/services/common/logger.ts', 'src/services/common/db/migrations/001_products.sql', 'Dockerfile', 'package-lock.json', 'tsup.config.ts']) {
      const root = makeTree();
      const before = await imageTags(root);
      write(root, path, 'changed\n');
      const after = await imageTags(root);
      for (const service of SERVICE_NAMES) expect(after[service], `${path} → ${service}`).not.toBe(before[service]);
    }
  });

  it('ignores files outside the image inputs', async () => {
    const root = makeTree();
    const before = await imageTags(root);
    write(root, 'src/cli/main.ts', '// edited\n');
    write(root, 'README.md', '# readme\n');
    expect(await imageTags(root)).toEqual(before);
  });

  it('tells a moved file from an edited one (paths are part of the hash)', async () => {
    const root = makeTree();
    const before = await imageTags(root);
    rmSync(join(root, 'src/services/common/logger.ts'));
    write(root, 'src/services/common/log.ts', 'export const a = 1;\n');
    expect((await imageTags(root)).catalog).not.toBe(before.catalog);
  });

  it('names the repository without a registry', () => {
    expect(imageRepository('catalog')).toBe('ecom/catalog');
  });
});
