import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EcomError } from '../../../src/core/errors.js';
import { renderSystem } from '../../../src/manifests/render.js';
import {
  clusterSecretsFile,
  generateClusterSecrets,
  loadOrCreateClusterSecrets,
  readClusterSecrets,
  REDACTED,
  secretObjects,
} from '../../../src/manifests/secrets.js';
import { ROOT, SECRETS, TAGS } from './rendered.js';

describe('cluster secrets', () => {
  const dirs: string[] = [];
  const stateDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecom-secrets-'));
    dirs.push(dir);
    return join(dir, '.ecom');
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('are generated once, kept with mode 0600, and the same afterwards', async () => {
    const dir = stateDir();
    expect(await readClusterSecrets(dir)).toBeUndefined();
    const first = await loadOrCreateClusterSecrets(dir);
    expect(first.created).toBe(true);
    expect(statSync(clusterSecretsFile(dir)).mode & 0o777).toBe(0o600);
    const second = await loadOrCreateClusterSecrets(dir);
    expect(second).toEqual({ secrets: first.secrets, created: false });
  });

  it('are random, URL-safe and never a default', () => {
    const a = generateClusterSecrets();
    const b = generateClusterSecrets();
    for (const key of ['postgresPassword', 'brokerPassword', 'grafanaAdminPassword'] as const) {
      expect(a[key]).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(a[key]).not.toBe(b[key]);
    }
    expect(a.brokerUser).toMatch(/^ecom-[0-9a-f]{6}$/);
  });

  it('tighten a secrets file whose mode was loosened', async () => {
    const dir = stateDir();
    await loadOrCreateClusterSecrets(dir);
    chmodSync(clusterSecretsFile(dir), 0o644);
    await readClusterSecrets(dir);
    expect(statSync(clusterSecretsFile(dir)).mode & 0o777).toBe(0o600);
  });

  it('refuse a damaged file rather than replace it (the data made with it would be lost)', async () => {
    const dir = stateDir();
    await loadOrCreateClusterSecrets(dir);
    writeFileSync(clusterSecretsFile(dir), '{"postgresPassword": "short"}');
    const failure = loadOrCreateClusterSecrets(dir);
    await expect(failure).rejects.toThrow(EcomError);
    await expect(failure).rejects.toThrow(/is damaged/);
    expect(readFileSync(clusterSecretsFile(dir), 'utf8')).toContain('short');
  });

  it('become Secret objects whose values render shows redacted', async () => {
    const redacted = secretObjects('redacted');
    const values = redacted.flatMap((s) => Object.values(s.stringData as Record<string, string>));
    expect(new Set(values)).toEqual(new Set([REDACTED]));
    expect(secretObjects(SECRETS).map((s) => s.stringData)).toContainEqual({ password: SECRETS.postgresPassword });

    const shown = JSON.stringify(await renderSystem({ root: ROOT, overlay: 'kind', tags: TAGS, secrets: SECRETS, redact: true }));
    const applied = JSON.stringify(await renderSystem({ root: ROOT, overlay: 'kind', tags: TAGS, secrets: SECRETS, redact: false }));
    for (const value of Object.values(SECRETS)) {
      expect(shown).not.toContain(value);
      expect(applied).toContain(value);
    }
  });

  it('are required to render what up applies', async () => {
    await expect(renderSystem({ root: ROOT, overlay: 'kind', tags: TAGS, redact: false })).rejects.toThrow(/secrets are required/);
  });
});
