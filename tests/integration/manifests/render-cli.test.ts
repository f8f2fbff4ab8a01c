/** `ecom render` as a user runs it: the built CLI in a child process, offline. */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { imageTags } from '../../../src/images/tags.js';
import type { KubeObject } from '../../../src/manifests/objects.js';
import { loadOrCreateClusterSecrets, REDACTED } from '../../../src/manifests/secrets.js';
import { cleanEnv, ROOT, runCli } from '../../helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'ecom-render-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function parseStream(text: string): KubeObject[] {
  return parseAllDocuments(text).flatMap((document) => {
    if (Array.isArray(document) || document.errors.length > 0) throw new Error('render printed invalid YAML');
    const value = document.toJS() as KubeObject | null;
    return value ? [value] : [];
  });
}

const secretValues = (objects: KubeObject[]) =>
  objects.filter((o) => o.kind === 'Secret').flatMap((s) => Object.values(s.stringData as Record<string, string>));

describe('ecom render', () => {
  it('prints the kind overlay as a YAML stream in apply order, with tagged images and every secret value redacted', async () => {
    // A state directory with real cluster secrets: none of them may reach the output.
    const stateDir = join(work, 'state');
    const { secrets } = await loadOrCreateClusterSecrets(stateDir);
    const result = runCli(['render'], { cwd: work, env: cleanEnv({ ECOM_HOME: stateDir }) });
    expect(result.status, result.stderr).toBe(0);
    const objects = parseStream(result.stdout);
    expect(objects.length).toBeGreaterThan(60);
    expect(objects[0]!.kind).toBe('Namespace');
    expect(objects.at(-1)!.kind).toBe('VirtualService');
    expect(secretValues(objects).length).toBeGreaterThan(0);
    expect(new Set(secretValues(objects))).toEqual(new Set([REDACTED]));
    for (const value of Object.values(secrets)) expect(result.stdout).not.toContain(value);
    const tags = await imageTags(ROOT);
    const catalog = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'catalog')!;
    expect(JSON.stringify(catalog)).toContain(`"localhost:5050/ecom/catalog:${tags.catalog}"`);
  });

  it('prints the same objects every time', () => {
    const first = runCli(['render'], { cwd: work });
    const second = runCli(['render'], { cwd: work });
    expect(first.status).toBe(0);
    expect(second.stdout).toBe(first.stdout);
  });

  it('--runtime context without --registry is a usage error (exit 2) with a hint', () => {
    const result = runCli(['render', '--runtime', 'context'], { cwd: work });
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^error: render --runtime context needs the registry .*\n {2}hint: add --registry R/);
  });

  it('--json prints one JSON document, a List kubectl can apply, with images from the named registry', () => {
    const result = runCli(['render', '--runtime', 'context', '--registry', 'registry.test:5000/team', '--json'], { cwd: work });
    expect(result.status, result.stderr).toBe(0);
    const list = JSON.parse(result.stdout) as { apiVersion: string; kind: string; items: KubeObject[] };
    expect([list.apiVersion, list.kind]).toEqual(['v1', 'List']);
    const images = list.items.filter((o) => o.kind === 'Deployment').map((o) => JSON.stringify(o).match(/"image":"([^"]+)"/)![1]);
    expect(images.every((image) => image!.startsWith('registry.test:5000/team/ecom/'))).toBe(true);
    expect(new Set(secretValues(list.items))).toEqual(new Set([REDACTED]));
  });

  it('-o DIR writes one file per object in apply order, replacing an earlier render and nothing else', () => {
    const dir = join(work, 'out');
    const first = runCli(['render', '-o', dir], { cwd: work });
    expect(first.status, first.stderr).toBe(0);
    writeFileSync(join(dir, '999-stale-object.yaml'), 'kind: Stale\n');
    writeFileSync(join(dir, 'notes.txt'), 'mine\n');
    const second = runCli(['render', '-o', dir], { cwd: work });
    expect(second.status, second.stderr).toBe(0);
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
    expect(existsSync(join(dir, '999-stale-object.yaml'))).toBe(false);
    expect(existsSync(join(dir, 'notes.txt'))).toBe(true);
    expect(files[0]).toBe('001-namespace-database.yaml');
    expect(second.stdout.trim().split('\n')).toEqual(files.map((f) => join(dir, f)));
    expect(second.stderr).toContain(`wrote ${files.length} objects`);
    const fromFiles = files.map((f) => parseStream(readFileSync(join(dir, f), 'utf8'))[0]!);
    expect(fromFiles).toEqual(parseStream(runCli(['render'], { cwd: work }).stdout));
  });

  it('--runtime local is refused: that runtime applies no Kubernetes objects', () => {
    const result = runCli(['render', '--runtime', 'local'], { cwd: work });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('error: the local runtime applies no Kubernetes objects, so there is nothing to render\n  hint: use --runtime kind or --runtime context\n');
    const fromEnvironment = runCli(['render'], { cwd: work, env: cleanEnv({ ECOM_RUNTIME: 'local' }) });
    expect(fromEnvironment.status).toBe(2);
    expect(fromEnvironment.stderr).toContain('hint: ECOM_RUNTIME=local is set in your environment');
  });

  it('ECOM_RUNTIME=context names the overlay like --runtime does', () => {
    const result = runCli(['render', '--registry', 'registry.test:5000', '--json'], { cwd: work, env: cleanEnv({ ECOM_RUNTIME: 'context' }) });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('"registry.test:5000/ecom/catalog:');
  });
});
