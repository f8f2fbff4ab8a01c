/**
 * The four services as real processes from dist/ (as `ecom up --runtime local` runs
 * them), on a database and queues of the test's own, so a request that crashes one
 * shows as an exited process, not as a broken test runner.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ServiceName } from '../../src/core/system.js';
import { openTestQueues, testAmqpUrl, type TestBroker } from '../helpers/broker.js';
import { ensureBuilt } from '../helpers/build.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;
/** Lines kept per service for the failure message. */
const KEPT_LINES = 200;

export interface ServiceProcess {
  name: ServiceName;
  url: string;
  child: ChildProcess;
  /** The exit code or signal once the process ended; undefined while it runs. */
  exit: () => string | undefined;
  /** Its last log lines (error level and above at the end), for a failure message. */
  lastLines: () => string[];
}

export interface PropertySystem {
  db: TestDatabase;
  broker: TestBroker;
  services: Record<ServiceName, ServiceProcess>;
  stop: () => Promise<void>;
}

export async function startSystem(): Promise<PropertySystem> {
  ensureBuilt();
  const db = await createTestDatabase();
  const broker = await openTestQueues();
  const started: ServiceProcess[] = [];
  const stop = async () => {
    await Promise.all(started.map(stopProcess));
    await broker.close();
    await db.drop();
  };
  try {
    const base = {
      DATABASE_URL: db.url,
      AMQP_URL: testAmqpUrl(),
      ORDERS_QUEUE: broker.queues.orders,
      SEARCH_BACKEND: 'postgres',
      // Requests that fail show as info lines; keep them to say why a property failed.
      LOG_LEVEL: 'info',
      SHUTDOWN_GRACE_MS: '2000',
    };
    // The frontend migrates without seeding: the catalog's migrations and seed come first.
    const catalog = await startService('catalog', base, started);
    const [search, order] = await Promise.all([startService('search', base, started), startService('order', base, started)]);
    const frontend = await startService(
      'frontend',
      { ...base, CATALOG_URL: catalog.url, SEARCH_URL: search.url, ORDER_URL: order.url, UPSTREAM_TIMEOUT_MS: '5000' },
      started,
    );
    return { db, broker, services: { catalog, search, order, frontend }, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function startService(name: ServiceName, env: Record<string, string>, started: ServiceProcess[]): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [`dist/services/${name}/main.js`], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const keep = (line: string) => {
    lines.push(line);
    if (lines.length > KEPT_LINES) lines.shift();
  };
  let exit: string | undefined;
  child.once('exit', (code, signal) => (exit = signal ?? `exit code ${code}`));
  createInterface({ input: child.stderr! }).on('line', keep);
  const out = createInterface({ input: child.stdout! });
  const service: ServiceProcess = { name, child, url: '', exit: () => exit, lastLines: () => [...lines] };
  // Recorded before it listens, so a failed start is still stopped.
  started.push(service);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${START_TIMEOUT_MS / 1000} s:\n${lines.join('\n')}`)), START_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`${name} exited while starting (${exit}):\n${lines.join('\n')}`));
    });
    out.on('line', (line) => {
      keep(line);
      const entry = parse(line);
      if (entry?.msg === `${name} listening` && typeof entry.port === 'number') {
        clearTimeout(timer);
        resolve(entry.port);
      }
    });
  });
  service.url = `http://127.0.0.1:${port}`;
  return service;
}

function parse(line: string): { msg?: string; port?: number } | undefined {
  try {
    return JSON.parse(line) as { msg?: string; port?: number };
  } catch {
    return undefined;
  }
}

async function stopProcess(service: ServiceProcess): Promise<void> {
  const { child } = service;
  if (service.exit() !== undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
