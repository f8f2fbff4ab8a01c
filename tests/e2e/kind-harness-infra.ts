/**
 * The infrastructure StatefulSets of the rendered system, played by real servers on
 * this machine instead of containers (their images cannot be pulled here): when the
 * fake cluster starts the `postgres` or `rabbitmq` pod, the player starts a server
 * from the pod's own environment, resolved from the applied Secrets - PostgreSQL with
 * POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB, a RabbitMQ node of its own with
 * RABBITMQ_DEFAULT_USER / RABBITMQ_DEFAULT_PASS - and points the pod's ports at it. A
 * replaced pod finds the same server again, as a StatefulSet's volume keeps its data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { OwnRabbitNode, RABBIT_BOOT_TIMEOUT_MS } from '../../src/runtime/local/broker.js';
import { findRabbitmqServer } from '../../src/runtime/local/rabbitmq.js';
import type { PodScenario } from '../helpers/fake-kube-api/index.js';
import { freePort } from '../../src/runtime/local/embedded-postgres.js';

/** A port free on 127.0.0.1 now (the project's own helper). */
export { freePort };

const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 15_000;
const TSX_LOADER = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
const POSTGRES_PROCESS = new URL('../helpers/test-postgres-process.ts', import.meta.url).pathname;

function required(env: Record<string, string>, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`the pod's environment has no ${name}`);
  return value;
}

/** PostgreSQL for the `postgres` StatefulSet: an embedded server of its own (test-postgres-process.ts). */
export class PostgresPlayer {
  private child: ChildProcess | undefined;
  private started: Promise<PodScenario> | undefined;
  adminUrl: string | undefined;

  /** The StatefulSet's player: the same server for every pod. */
  play = (env: Record<string, string>): Promise<PodScenario> => (this.started ??= this.start(env));

  private async start(env: Record<string, string>): Promise<PodScenario> {
    const user = required(env, 'POSTGRES_USER');
    const password = required(env, 'POSTGRES_PASSWORD');
    const database = required(env, 'POSTGRES_DB');
    const child = spawn(process.execPath, ['--import', TSX_LOADER, POSTGRES_PROCESS], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.child = child;
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`PostgreSQL did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      createInterface({ input: child.stdout! }).once('line', (l) => (clearTimeout(timer), resolve(l)));
      child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`the PostgreSQL process exited (code ${code})`))));
    });
    const answer = JSON.parse(line) as { url?: string; error?: string };
    if (!answer.url) throw new Error(`PostgreSQL did not start: ${answer.error}`);
    this.adminUrl = answer.url;
    const admin = new pg.Client({ connectionString: answer.url });
    await admin.connect();
    try {
      // What the postgres image's entrypoint makes of these variables: a superuser and its database.
      await admin.query(`CREATE ROLE ${pg.escapeIdentifier(user)} LOGIN SUPERUSER PASSWORD ${pg.escapeLiteral(password)}`);
      await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(database)} OWNER ${pg.escapeIdentifier(user)}`);
    } finally {
      await admin.end();
    }
    return { ports: { 5432: { host: '127.0.0.1', port: Number(new URL(answer.url).port) } } };
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdin?.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }
}

/** RabbitMQ for the `rabbitmq` StatefulSet: a node of its own (the local runtime's OwnRabbitNode). */
export class RabbitPlayer {
  private node: OwnRabbitNode | undefined;
  private started: Promise<PodScenario> | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'ecom-kind-rabbit-'));

  play = (env: Record<string, string>): Promise<PodScenario> => (this.started ??= this.start(env));

  get amqpUrl(): string | undefined {
    return this.node?.url;
  }

  private async start(env: Record<string, string>): Promise<PodScenario> {
    const script = findRabbitmqServer();
    if (!script) throw new Error('rabbitmq-server is not installed (apt-get install -y rabbitmq-server): it plays the rabbitmq StatefulSet');
    const [amqpPort, distPort, managementPort, epmdPort] = await distinctPorts(4);
    const plan = {
      dir: this.dir,
      nodeName: `ecom-kind-${this.dir.slice(-6).toLowerCase()}@localhost`,
      amqpPort: amqpPort!,
      distPort: distPort!,
      managementPort: managementPort!,
      epmdPort: epmdPort!,
      user: required(env, 'RABBITMQ_DEFAULT_USER'),
      password: required(env, 'RABBITMQ_DEFAULT_PASS'),
    };
    const node = new OwnRabbitNode(plan, script, join(this.dir, 'server.log'));
    this.node = node;
    node.start(process.env);
    if (!(await node.ready(Date.now() + RABBIT_BOOT_TIMEOUT_MS))) throw new Error(`the RabbitMQ node did not accept connections; see ${join(this.dir, 'server.log')}`);
    return { ports: { 5672: { host: '127.0.0.1', port: plan.amqpPort }, 15672: { host: '127.0.0.1', port: plan.managementPort } } };
  }

  async stop(): Promise<void> {
    await this.node?.stop(STOP_GRACE_MS);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function distinctPorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

