import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readState, recordedProcesses, redactUrl, writeState } from '../../../src/runtime/local/state.js';
import { loadOrCreateSecrets } from '../../../src/runtime/local/secrets.js';
import { sampleState } from './fixtures.js';
import { resolveStateDir } from '../../../src/core/state-dir.js';
import { fallbackDataRoot, postgresDataDir, stateId } from '../../../src/runtime/local/paths.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'ecom-state-test-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));


describe('state file', () => {
  it('round-trips through an atomic write, readable by its owner only, leaving no temp file', () => {
    const dir = tempDir();
    const file = join(dir, 'state.json');
    writeState(file, sampleState(dir));
    expect(readState(file)?.services.order.port).toBe(5003);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['state.json']);
  });

  it('treats a missing, corrupt or foreign file as no state', () => {
    const dir = tempDir();
    expect(readState(join(dir, 'state.json'))).toBeUndefined();
    writeFileSync(join(dir, 'bad.json'), '{"version":');
    expect(readState(join(dir, 'bad.json'))).toBeUndefined();
    writeFileSync(join(dir, 'other.json'), JSON.stringify({ version: 99, runtime: 'local' }));
    expect(readState(join(dir, 'other.json'))).toBeUndefined();
  });

  it('lists recorded processes services first, PostgreSQL last', () => {
    const whats = recordedProcesses(sampleState('/s')).map((p) => p.what);
    expect(whats).toEqual(['catalog', 'search', 'order', 'frontend', 'prometheus', 'rabbitmq', 'rabbitmq (erlang vm)', 'postgres']);
  });

  it('redacts passwords in URLs', () => {
    expect(redactUrl('amqp://ecom-1:s3cr3t@127.0.0.1:5672')).toBe('amqp://ecom-1:***@127.0.0.1:5672');
    expect(redactUrl('amqp://127.0.0.1:5672')).toBe('amqp://127.0.0.1:5672');
  });
});

describe('secrets', () => {
  it('generates secrets once, with mode 0600, and reuses them', () => {
    const file = join(tempDir(), 'secrets.json');
    const first = loadOrCreateSecrets(file);
    expect(first.created).toBe(true);
    expect(first.secrets.postgresPassword).toMatch(/^[\w-]{24,}$/);
    expect(first.secrets.brokerPassword).not.toBe(first.secrets.postgresPassword);
    expect(first.secrets.brokerUser).not.toBe('guest');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const second = loadOrCreateSecrets(file);
    expect(second).toEqual({ secrets: first.secrets, created: false });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(first.secrets);
  });
});

describe('paths', () => {
  it('uses ECOM_HOME when set, else <cwd>/.ecom', () => {
    expect(resolveStateDir('/proj', {})).toBe('/proj/.ecom');
    expect(resolveStateDir('/proj', { ECOM_HOME: '/tmp/e' })).toBe('/tmp/e');
    expect(resolveStateDir('/proj', { ECOM_HOME: 'rel' })).toBe('/proj/rel');
  });

  it('puts PostgreSQL data under /var/tmp/ecom-<id> when postgres cannot reach the state dir', () => {
    expect(postgresDataDir('/proj/.ecom', true)).toBe('/proj/.ecom/postgres');
    expect(postgresDataDir('/root/x/.ecom', false)).toBe(`/var/tmp/ecom-${stateId('/root/x/.ecom')}/postgres`);
    expect(fallbackDataRoot('/a')).not.toBe(fallbackDataRoot('/b'));
  });
});
