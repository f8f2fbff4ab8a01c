import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assembleRuntime, importedPackages, packageOf, runtimePackageJson, type Metafile } from '../../../src/images/runtime-package.js';

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function write(root: string, path: string, content: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}

const metafile: Metafile = {
  outputs: {
    'dist/services/search/main.js': {
      imports: [
        { path: 'node:fs', kind: 'import-statement', external: true },
        { path: 'fs/promises', kind: 'import-statement', external: true },
        { path: 'express', kind: 'import-statement', external: true },
        { path: '@elastic/elasticsearch', kind: 'import-statement', external: true },
        { path: 'pg', kind: 'dynamic-import', external: true },
        { path: 'dist/chunk-x.js', kind: 'import-statement' },
      ],
    },
    'dist/chunk-x.js': { imports: [{ path: 'pino/file', kind: 'import-statement', external: true }] },
  },
};

describe('runtime package', () => {
  it('names the packages a bundle imports, without built-ins or its own chunks', () => {
    expect(packageOf('@elastic/elasticsearch/lib/api')).toBe('@elastic/elasticsearch');
    expect(packageOf('node:fs')).toBeUndefined();
    expect(packageOf('path')).toBeUndefined();
    expect(importedPackages(metafile)).toEqual(['@elastic/elasticsearch', 'express', 'pg', 'pino']);
  });

  it('keeps only the imported dependencies, at the declared ranges', () => {
    const project = {
      name: 'ecom',
      version: '1.2.3',
      type: 'module',
      scripts: { prepare: 'tsup' },
      dependencies: { express: '^5.0.0', pg: '^8.0.0', '@kubernetes/client-node': '~1.4.0' },
      devDependencies: { tsup: '^8.0.0' },
    };
    expect(runtimePackageJson(project, ['express', 'pg'], 'catalog')).toEqual({
      name: 'ecom',
      version: '1.2.3',
      private: true,
      type: 'module',
      engines: undefined,
      dependencies: { express: '^5.0.0', pg: '^8.0.0' },
    });
    expect(() => runtimePackageJson(project, ['express', 'tsup'], 'catalog')).toThrow(
      'catalog imports tsup, not in package.json "dependencies"',
    );
  });

  it('assembles dist, the data files and the lockfile, without TypeScript sources', () => {
    const root = mkdtempSync(join(tmpdir(), 'ecom-runtime-'));
    roots.push(root);
    write(root, 'package.json', JSON.stringify({ name: 'ecom', version: '0.1.0', dependencies: { pg: '^8.0.0', express: '^5.0.0' } }));
    write(root, 'package-lock.json', '{"lockfileVersion":3}');
    write(root, 'dist/metafile-esm.json', JSON.stringify({ outputs: { 'dist/services/frontend/main.js': { imports: [{ path: 'pg', kind: 'import-statement', external: true }] } } }));
    write(root, 'dist/services/frontend/main.js', '// bundle');
    write(root, 'src/services/common/db/migrations/001.sql', 'select 1;');
    write(root, 'src/services/common/db/pool.ts', 'export {};');
    write(root, 'src/services/frontend/public/index.html', '<html>');
    write(root, 'src/services/frontend/app.ts', 'export {};');
    write(root, 'src/services/catalog/data.json', '[]');
    const out = join(root, 'out');
    assembleRuntime(root, 'frontend', out);

    expect(JSON.parse(readFileSync(join(out, 'package.json'), 'utf8')).dependencies).toEqual({ pg: '^8.0.0' });
    expect(readFileSync(join(out, 'package-lock.json'), 'utf8')).toBe('{"lockfileVersion":3}');
    expect(existsSync(join(out, 'dist/services/frontend/main.js'))).toBe(true);
    expect(existsSync(join(out, 'dist/metafile-esm.json'))).toBe(false);
    expect(existsSync(join(out, 'src/services/common/db/migrations/001.sql'))).toBe(true);
    expect(existsSync(join(out, 'src/services/frontend/public/index.html'))).toBe(true);
    expect(existsSync(join(out, 'src/services/common/db/pool.ts'))).toBe(false);
    expect(existsSync(join(out, 'src/services/frontend/app.ts'))).toBe(false);
    expect(existsSync(join(out, 'src/services/catalog'))).toBe(false);
  });
});
