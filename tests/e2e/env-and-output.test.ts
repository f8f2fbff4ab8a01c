/**
 * What a new user sees from the built CLI on the local runtime, with its own RabbitMQ
 * node and real Prometheus: `ecom env` values that connect (PostgreSQL, AMQP, the
 * management API), `up`'s final lines, the Prometheus link opening a page that exists.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import amqp from 'amqplib';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { SystemStatus } from '../../src/runtime/types.js';
import { ciEnv, ecom, localSystemPerSuite, parseJson, ROOT } from './helpers.js';

const UP_TIMEOUT_MS = 150_000;

interface EnvJson {
  runtime: string;
  variables: Record<string, string>;
  databaseUrl: string;
  amqpUrl: string;
  brokerManagement: { url: string; user: string; password: string };
  endpoints: { prometheus?: string; brokerManagement?: string };
  notes: string[];
}

describe('ecom env and the output of up on the local runtime', () => {
  const suite = localSystemPerSuite();
  let upOut = '';
  let env: EnvJson;

  it('up --timeout names the part that was not ready with its own log lines, and status right after agrees', async () => {
    const run = await ecom(suite.home, ['up', '--port-offset', String(suite.offset), '--timeout', '4s'], 60_000);
    expect(run.code, run.stderr).toBe(124);
    const named = /error: not ready after 4 s: (\w+) \(([^)]*)\)/.exec(run.stderr);
    expect(named, run.stderr).not.toBeNull();
    const part = named![1]!;
    const ownLog = { postgres: /logs\/postgres\.log/, broker: /rabbitmq\/log\/ecom-\w+@localhost\.log|logs\/rabbitmq\.log/, prometheus: /logs\/prometheus\.log/ }[part] ?? new RegExp(`logs/${part}\\.log`);
    // Its last lines, or, this early, that it has written none yet.
    expect(run.stderr, run.stderr).toMatch(new RegExp(`\\n(last lines of [^\\n]*(${ownLog.source}):\\n {4}\\s*\\S|\\([^\\n]*(${ownLog.source}) has no lines yet\\))`));
    const status = parseJson<SystemStatus>(await ecom(suite.home, ['status', '--json']));
    const shown = status.dependencies.find((d) => d.name === part)?.state ?? status.services.find((s) => s.name === part)?.state;
    // It may have become ready meanwhile, but never shows as stopped or missing while up waits for it.
    expect(['starting', 'running'], `${part}: ${JSON.stringify(status)}`).toContain(shown);
  }, 90_000);

  it('up ends with one "healthy", the storefront once, and points at ecom env for the logins', async () => {
    const run = await ecom(suite.home, ['up', '--port-offset', String(suite.offset), '--timeout', '120s'], UP_TIMEOUT_MS);
    expect(run.code, run.stderr).toBe(0);
    upOut = `${run.stderr}${run.stdout}`;
    expect(upOut.match(/healthy/g), upOut).toHaveLength(1);
    const frontend = `http://127.0.0.1:${5004 + suite.offset}`;
    expect(run.stdout.split('\n').filter((l) => l.includes(frontend))).toEqual([`  frontend    ${frontend}/ (storefront)`]);
    expect(run.stdout).toMatch(/^ {2}rabbitmq {4}http:\/\/127\.0\.0\.1:\d+\/ \(login: ecom env\)$/m);
    expect(run.stdout).toContain('connection URLs and logins (DATABASE_URL, AMQP_URL, RabbitMQ): ecom env');
  }, UP_TIMEOUT_MS + 5_000);

  it('env --json: DATABASE_URL runs SELECT 1 in the embedded PostgreSQL', async () => {
    const run = await ecom(suite.home, ['env', '--json']);
    expect(run.code, run.stderr).toBe(0);
    env = parseJson<EnvJson>(run);
    expect(env.runtime).toBe('local');
    expect(env.variables.DATABASE_URL).toBe(env.databaseUrl);
    const client = new pg.Client({ connectionString: env.databaseUrl });
    await client.connect();
    try {
      const result = await client.query<{ one: number }>('SELECT 1 AS one');
      expect(result.rows).toEqual([{ one: 1 }]);
      // The database the services use: the catalogue is there.
      const products = await client.query<{ n: string }>('SELECT count(*) AS n FROM products');
      expect(Number(products.rows[0]!.n)).toBeGreaterThan(0);
    } finally {
      await client.end();
    }
  });

  it('env --json: AMQP_URL connects to ecom\'s own RabbitMQ node and sees the orders queue', async () => {
    expect(env.amqpUrl).toMatch(/^amqp:\/\/ecom-[0-9a-f]{6}:[^@]+@127\.0\.0\.1:\d+$/);
    const connection = await amqp.connect(env.amqpUrl);
    try {
      const channel = await connection.createChannel();
      const queue = await channel.checkQueue('orders');
      expect(queue.queue).toBe('orders');
    } finally {
      await connection.close();
    }
  });

  it('env --json: the management login answers 200 on /api/whoami as an administrator, and guest/guest is refused', async () => {
    const m = env.brokerManagement;
    expect(m.url).toBe(env.endpoints.brokerManagement);
    const whoami = (user: string, password: string) =>
      fetch(new URL('api/whoami', m.url), { headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` } });
    const ok = await whoami(m.user, m.password);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ name: m.user, tags: expect.arrayContaining(['administrator']) });
    // The management UI itself is served (the plugin is enabled on ecom's node).
    const page = await fetch(m.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('RabbitMQ Management');
    expect((await whoami('guest', 'guest')).status).toBe(401);
  });

  it('env --export lines, evaluated by a shell, give a client the same working values', () => {
    const script = [
      `eval "$(node ${join(ROOT, 'bin', 'ecom.js')} env --export)"`,
      `node -e "const pg=require('pg');const c=new pg.Client({connectionString:process.env.DATABASE_URL});c.connect().then(()=>c.query('SELECT 1 AS one')).then(r=>{console.log('pg',r.rows[0].one);return c.end()})"`,
      'echo "user=$RABBITMQ_USER amqp=${AMQP_URL%%:*}"',
    ].join('\n');
    const run = spawnSync('bash', ['-c', script], { cwd: ROOT, env: ciEnv(suite.home), encoding: 'utf8', timeout: 30_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout.split('\n')).toEqual(['pg 1', `user=${env.brokerManagement.user} amqp=amqp`, '']);
  });

  it('env without flags fits 80 columns and shows the login next to the management URL', async () => {
    const run = await ecom(suite.home, ['env']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines.filter((l) => l.length > 80)).toEqual([]);
    expect(lines).toContain(`  management  ${env.brokerManagement.url}`);
    expect(lines).toContain(`  user        ${env.brokerManagement.user}`);
    expect(lines).toContain(`  password    ${env.brokerManagement.password}`);
    expect(lines).toContain(`  ${env.databaseUrl}`);
  });

  it('the Prometheus URL ecom prints opens a page of the Prometheus it runs (after its redirects)', async () => {
    const url = env.endpoints.prometheus!;
    expect(upOut).toContain(`  prometheus  ${url}`);
    const page = await fetch(url, { redirect: 'follow' });
    expect(page.status, page.url).toBe(200);
    expect(await page.text()).toContain('<title>Prometheus');
  });

  it('down reports each part as it stops', async () => {
    const run = await ecom(suite.home, ['down'], 90_000);
    expect(run.code, run.stderr).toBe(0);
    for (const part of ['catalog', 'search', 'order', 'frontend', 'postgres', 'rabbitmq', 'prometheus', 'supervisor']) {
      expect(run.stderr, part).toMatch(new RegExp(`Z ${part.replace(/[()]/g, '\\$&')}: stopped \\(pid \\d+\\)\\n`));
    }
  }, 95_000);
});
