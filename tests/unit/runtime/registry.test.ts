/**
 * The runtime registry (src/runtime/registry.ts) loads only the chosen runtime. Checked
 * in a fresh node process whose module-resolve hook writes down every file it loads,
 * since the test process itself has loaded everything already.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { RUNTIME_NAMES, isRuntimeName, runtimeAvailable } from '../../../src/runtime/registry.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'ecom-registry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The project files (relative to the root) a fresh process loads while running
 * `script`, in order; the script marks a point with `mark()`, written as "MARK".
 */
function filesLoadedBy(script: string): string[] {
  const log = join(dir, `loaded-${Math.random().toString(36).slice(2)}.txt`);
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(
    hooks,
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, result.url + '\\n');
  return result;
}`,
  );
  const register = join(dir, 'register.mjs');
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  const main = join(dir, 'main.mjs');
  const mark = `import { appendFileSync } from 'node:fs';\nconst mark = () => appendFileSync(${JSON.stringify(log)}, 'MARK\\n');\n`;
  writeFileSync(main, mark + script);
  execFileSync(process.execPath, ['--import', 'tsx', '--import', pathToFileURL(register).href, main], { cwd: ROOT, stdio: 'pipe' });
  const prefix = pathToFileURL(ROOT).href + '/';
  const lines = [...new Set(readFileSync(log, 'utf8').split('\n'))];
  return lines.filter((u) => u === 'MARK' || u.startsWith(prefix)).map((u) => (u === 'MARK' ? u : u.slice(prefix.length)));
}

describe('runtime registry', () => {
  it('knows kind, context and local by name, and has all three', () => {
    expect(RUNTIME_NAMES).toEqual(['kind', 'context', 'local']);
    expect(RUNTIME_NAMES.map(runtimeAvailable)).toEqual([true, true, true]);
    expect(isRuntimeName('local')).toBe(true);
    expect(isRuntimeName('minikube')).toBe(false);
  });

  it('loads no runtime until one is created, then only that runtime and never the Kubernetes client', () => {
    const registry = pathToFileURL(join(ROOT, 'src/runtime/registry.ts')).href;
    const loaded = filesLoadedBy(
      `const { createRuntime } = await import(${JSON.stringify(registry)});
mark();
const runtime = await createRuntime('local', { cwd: '/tmp', stateDir: '/tmp/ecom-registry-test', env: {} });
if (runtime.name !== 'local') throw new Error('wrong runtime');`,
    );
    const beforeCreate = loaded.slice(0, loaded.indexOf('MARK'));
    expect(beforeCreate).toContain('src/runtime/registry.ts');
    expect(beforeCreate.filter((f) => f.startsWith('src/runtime/local/'))).toEqual([]);
    expect(loaded).toContain('src/runtime/local/runtime.ts');
    expect(loaded.filter((f) => /^src\/(kube|manifests|images)\/|^src\/runtime\/(kind|context)\//.test(f))).toEqual([]);
    expect(loaded.filter((f) => f.includes('node_modules/@kubernetes/'))).toEqual([]);
  });

  it('creates kind without loading local, context or the Kubernetes client (it connects on first use)', () => {
    const registry = pathToFileURL(join(ROOT, 'src/runtime/registry.ts')).href;
    const loaded = filesLoadedBy(
      `const { createRuntime } = await import(${JSON.stringify(registry)});
const runtime = await createRuntime('kind', { cwd: '/tmp', stateDir: '/tmp/ecom-registry-test', env: {} });
if (runtime.name !== 'kind') throw new Error('wrong runtime');`,
    );
    expect(loaded).toContain('src/runtime/kind/runtime.ts');
    expect(loaded.filter((f) => /^src\/runtime\/(local|context)\//.test(f))).toEqual([]);
    expect(loaded.filter((f) => f.includes('node_modules/@kubernetes/') || f === 'src/kube/client-node.ts')).toEqual([]);
  });
});
