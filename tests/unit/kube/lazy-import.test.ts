import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const KUBE = new URL('../../../src/kube/', import.meta.url).pathname;
/** The only files that may load the library; connect.ts reaches them by dynamic import. */
const LOADERS = ['client-node.ts', 'client-objects.ts', 'client-streams.ts'];

function sources(): Array<{ file: string; text: string }> {
  return readdirSync(KUBE)
    .filter((f) => f.endsWith('.ts'))
    .map((file) => ({ file, text: readFileSync(join(KUBE, file), 'utf8') }));
}

/** Static imports that load code at run time (`import type` erases). */
function valueImports(text: string): string[] {
  return [...text.matchAll(/^import\s+(?!type\s)[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]!);
}

describe('the Kubernetes client library loads lazily', () => {
  it('only the client files import @kubernetes/client-node for its values; the rest import types', () => {
    const offenders = sources()
      .filter(({ file }) => !LOADERS.includes(file))
      .filter(({ text }) => valueImports(text).some((m) => m.startsWith('@kubernetes/client-node')))
      .map(({ file }) => file);
    expect(offenders).toEqual([]);
  });

  it('the client files are reached only through the dynamic import in connect.ts', () => {
    const importers = sources()
      .filter(({ file }) => !LOADERS.includes(file))
      .filter(({ text }) => valueImports(text).some((m) => LOADERS.some((l) => m === `./${l.replace('.ts', '.js')}`)))
      .map(({ file }) => file);
    expect(importers).toEqual([]);
    expect(readFileSync(join(KUBE, 'connect.ts'), 'utf8')).toContain("await import('./client-node.js')");
  });
});
