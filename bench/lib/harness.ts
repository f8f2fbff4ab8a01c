/**
 * Shared pieces of the benchmarks: a PostgreSQL to run against, HTTP load with
 * autocannon, (bench/lib/record.ts keeps the figures). Figures are only compared
 * with a reference measured in the same run on the same machine.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fork, type ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/runtime/local/embedded-postgres.js';

export interface BenchDatabase {
  url: string;
  adminUrl: string;
  close: () => Promise<void>;
}

/** A fresh database: on BENCH_DATABASE_URL's server when set, else an embedded server of our own. */
export async function benchDatabase(): Promise<BenchDatabase> {
  const name = `ecom_bench_${randomBytes(4).toString('hex')}`;
  let adminUrl = process.env.BENCH_DATABASE_URL;
  let stopServer = async () => {};
  if (!adminUrl) {
    const dataDir = join(tmpdir(), `ecom-bench-pg-${randomBytes(4).toString('hex')}`);
    // Durable settings: the reference (pgbench) and our code pay the same commit cost.
    const server = await startEmbeddedPostgres({ dataDir, onLog: () => {} });
    adminUrl = server.url;
    stopServer = async () => {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    };
  }
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    adminUrl,
    close: async () => {
      await adminQuery(adminUrl!, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await stopServer();
    },
  };
}

/** One statement on its own connection (CREATE/DROP DATABASE cannot run in a pool's transaction). */
export async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface LoadResult {
  requestsPerSecond: number;
  errors: number;
  non2xx: number;
  p99Ms: number;
}

/** Drives `url` with autocannon for `seconds`; the server must run in another process. */
export async function load(opts: {
  url: string;
  seconds: number;
  connections?: number;
  method?: 'GET' | 'POST';
  body?: string;
  headers?: Record<string, string>;
  requests?: autocannon.Request[];
}): Promise<LoadResult> {
  const result = await autocannon({
    url: opts.url,
    connections: opts.connections ?? 50,
    duration: opts.seconds,
    method: opts.method ?? 'GET',
    body: opts.body,
    headers: opts.headers,
    requests: opts.requests,
  });
  return {
    requestsPerSecond: result.requests.average,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    p99Ms: result.latency.p99,
  };
}

/** Runs a bench server script (bench/servers/*.ts) in a child process; resolves with its port. */
export function startServerProcess(script: string, env: Record<string, string>): Promise<{ port: number; child: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const child = fork(script, [], {
      env: { ...process.env, ...env },
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    child.once('message', (m: { port?: number; error?: string }) => {
      if (m.port) resolve({ port: m.port, child });
      else reject(new Error(m.error ?? 'server did not start'));
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

export function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
