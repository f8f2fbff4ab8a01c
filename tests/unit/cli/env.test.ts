/** `ecom env` (src/cli/commands/env.ts) and the cluster runtimes' access (src/runtime/cluster/access.ts): what a user reads and what a shell gets. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { accessVariables, formatExport, renderAccess } from '../../../src/cli/commands/env.js';
import { clusterAccess } from '../../../src/runtime/cluster/access.js';
import { endpointsFor } from '../../../src/runtime/cluster/context.js';
import type { SystemAccess } from '../../../src/runtime/types.js';

const PASSWORD = 'vERKkWC9kKPRc08fCmcB9ewwOB3N11hW';
const services = (base: number) => ({
  catalog: `http://127.0.0.1:${base + 1}`,
  search: `http://127.0.0.1:${base + 2}`,
  order: `http://127.0.0.1:${base + 3}`,
  frontend: `http://127.0.0.1:${base + 4}`,
});

/** Realistic long values: 5-digit ports, 32-character generated passwords. */
const local: SystemAccess = {
  runtime: 'local',
  endpoints: { services: services(28570), prometheus: 'http://127.0.0.1:32660', brokerManagement: 'http://127.0.0.1:39242/', console: 'http://127.0.0.1:28575' },
  databaseUrl: `postgres://postgres:qfQZbkiJgL0uNjeKPUd1ZNkl635e41MK@127.0.0.1:46883/postgres`,
  amqpUrl: `amqp://ecom-cb5203:${PASSWORD}@127.0.0.1:44569`,
  brokerManagement: { url: 'http://127.0.0.1:39242/', user: 'ecom-cb5203', password: PASSWORD },
  notes: [],
};

describe('ecom env', () => {
  let dir: string | undefined;
  afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('fits 80 columns without splitting a URL: a value too long to sit beside its name goes whole on the next line', () => {
    const lines = renderAccess(local, 80).split('\n');
    expect(lines.filter((l) => l.length > 80)).toEqual([]);
    expect(lines).toContain(`  ${local.databaseUrl}`);
    expect(lines).toContain(`  ${local.amqpUrl}`);
    expect(lines).toContain('  management  http://127.0.0.1:39242/');
    expect(lines).toContain(`  password    ${PASSWORD}`);
    expect(lines).toContain('  FRONTEND_URL  http://127.0.0.1:28574/ (storefront)');
    expect(lines.filter((l) => l.includes('28574'))).toHaveLength(1);
  });

  it('--export lines give a shell exactly the values, whatever characters they hold', () => {
    const awkward: SystemAccess = { ...local, amqpUrl: "amqp://u:it's $HOME `x` \"q\"@127.0.0.1:1", notes: ['a note; rm -rf /'] };
    const script = `${formatExport(awkward)}\nprintf '%s\\n' "$AMQP_URL" "$RABBITMQ_PASSWORD" "$ORDER_URL"`;
    const run = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe(`${awkward.amqpUrl}\n${PASSWORD}\nhttp://127.0.0.1:28573\n`);
    expect(formatExport(awkward).split('\n')[0]).toBe('# a note; rm -rf /');
  });

  it('names the variables the services and tools read', () => {
    expect(Object.keys(accessVariables(local))).toEqual([
      'DATABASE_URL',
      'AMQP_URL',
      'RABBITMQ_MANAGEMENT_URL',
      'RABBITMQ_USER',
      'RABBITMQ_PASSWORD',
      'PROMETHEUS_URL',
      'ECOM_CONSOLE_URL',
      'CATALOG_URL',
      'SEARCH_URL',
      'ORDER_URL',
      'FRONTEND_URL',
    ]);
  });

  it('in a cluster: the forwarded URLs, logins from the generated secrets, and the port-forwards DATABASE_URL and AMQP_URL need, within 80 columns', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ecom-env-'));
    const secrets = { postgresPassword: 'p'.repeat(32), brokerUser: 'ecom-a1b2c3', brokerPassword: PASSWORD, grafanaAdminPassword: 'g'.repeat(32) };
    writeFileSync(join(dir, 'cluster-secrets.json'), JSON.stringify(secrets), { mode: 0o600 });
    const kubeconfigPath = join(dir, 'projects', 'shop', '.ecom', 'kubeconfig');
    const record = { runtime: 'kind' as const, kubeconfigPath, context: 'kind-ecom', portOffset: 100, mesh: 'sidecar' as const, registry: 'localhost:5050', createdNamespaces: [], helmReleases: [], upAt: '' };
    const access = await clusterAccess('kind', dir, record, endpointsFor(100));
    expect(access.databaseUrl).toBe(`postgres://ecom:${'p'.repeat(32)}@127.0.0.1:25532/ecom`);
    expect(access.amqpUrl).toBe(`amqp://ecom-a1b2c3:${PASSWORD}@127.0.0.1:25772`);
    expect(access.brokerManagement).toEqual({ url: 'http://127.0.0.1:15772', user: 'ecom-a1b2c3', password: PASSWORD });
    expect(access.grafana).toEqual({ url: 'http://127.0.0.1:3100', user: 'admin', password: 'g'.repeat(32) });
    expect(access.notes).toContain(`  kubectl --kubeconfig ${kubeconfigPath} --context kind-ecom --namespace database port-forward service/postgres-postgresql 25532:5432`);
    const lines = renderAccess(access, 80).split('\n');
    expect(lines.filter((l) => l.length > 80)).toEqual([]);
    // A wrapped command still pastes as one: every line but its last ends with a backslash.
    const start = lines.findIndex((l) => l.startsWith('    kubectl'));
    expect(lines.slice(start, start + 3).join('\n').replace(/ \\\n +/g, ' ').trim()).toBe(access.notes[1]!.trim());
  });

  it('in a cluster without the secrets file: how to read each secret from the cluster', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ecom-env-'));
    const record = { runtime: 'context' as const, kubeconfigPath: '/home/me/.kube/config', context: 'team', portOffset: 0, mesh: 'sidecar' as const, registry: 'r', createdNamespaces: [], helmReleases: [], upAt: '' };
    const access = await clusterAccess('context', dir, record, endpointsFor(0));
    expect(access.databaseUrl).toBeUndefined();
    expect(access.notes.join('\n')).toContain("-n messaging get secret rabbitmq-credentials -o jsonpath='{.data.password}' | base64 -d");
  });
});
