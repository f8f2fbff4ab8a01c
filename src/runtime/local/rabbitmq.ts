/**
 * A RabbitMQ node of our own: own node name, ports, data, logs, config and Erlang
 * cookie, all inside the state directory, credentials generated. Also the broker
 * resolution order of docs/architecture.md, "local".
 */
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { orOnTimeout, pollUntil } from '../../core/poll.js';
import { SYSTEM_BIN_DIRS, findExecutable } from '../../tools/which.js';

const AMQP_POLL_MS = 100;
/** One connection attempt while waiting for the node. */
const AMQP_TRY_TIMEOUT_MS = 1_000;

/** The Debian /usr/sbin wrapper switches to the rabbitmq user when root; this one runs as is. */
const DIRECT_SERVER_SCRIPT = '/usr/lib/rabbitmq/bin/rabbitmq-server';

export function findRabbitmqServer(env: NodeJS.ProcessEnv = process.env): string | undefined {
  try {
    accessSync(DIRECT_SERVER_SCRIPT, constants.X_OK);
    return DIRECT_SERVER_SCRIPT;
  } catch {
    return findExecutable('rabbitmq-server', env, SYSTEM_BIN_DIRS);
  }
}

export interface RabbitNodePlan {
  /** <state>/rabbitmq: config, data, logs and HOME (Erlang cookie) all below it. */
  dir: string;
  nodeName: string;
  amqpPort: number;
  distPort: number;
  managementPort: number;
  /**
   * Our own epmd (Erlang port mapper) listens here, so none is left on 4369 after we
   * stop. Without it the node uses (and may start) the shared epmd on 4369.
   */
  epmdPort?: number;
  user: string;
  password: string;
}

/** rabbitmq.conf (new-style): loopback listeners only, our generated user instead of guest. */
export function rabbitConfig(plan: RabbitNodePlan): string {
  return [
    `listeners.tcp.1 = 127.0.0.1:${plan.amqpPort}`,
    'management.tcp.ip = 127.0.0.1',
    `management.tcp.port = ${plan.managementPort}`,
    `default_user = ${plan.user}`,
    `default_pass = ${plan.password}`,
    'default_user_tags.administrator = true',
    'log.console = true',
    // The console is logs/rabbitmq.log (`ecom logs broker`): plain text, from info up.
    'log.console.level = info',
    'log.console.use_colors = off',
    'log.file.level = info',
    '',
  ].join('\n');
}

/**
 * Environment for rabbitmq-server (and any Erlang tool run against the node): nothing
 * from /etc/rabbitmq, everything in `plan.dir`, and a private epmd on `plan.epmdPort`.
 */
export function rabbitEnv(plan: RabbitNodePlan, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) {
    if (!k.startsWith('RABBITMQ_') && !k.startsWith('ERL_')) env[k] = v;
  }
  return {
    ...env,
    HOME: join(plan.dir, 'home'),
    RABBITMQ_NODENAME: plan.nodeName,
    RABBITMQ_DIST_PORT: String(plan.distPort),
    RABBITMQ_MNESIA_BASE: join(plan.dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(plan.dir, 'log'),
    RABBITMQ_CONFIG_FILE: join(plan.dir, 'rabbitmq.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(plan.dir, 'advanced.config'),
    RABBITMQ_CONF_ENV_FILE: join(plan.dir, 'rabbitmq-env.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(plan.dir, 'enabled_plugins'),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    ...(plan.epmdPort ? { ERL_EPMD_PORT: String(plan.epmdPort) } : {}),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
  };
}

/** Writes the node's files; config holds the password, so it is 0600. */
export function prepareRabbitNode(plan: RabbitNodePlan): void {
  for (const sub of ['home', 'mnesia', 'log']) mkdirSync(join(plan.dir, sub), { recursive: true, mode: 0o700 });
  writeFileSync(join(plan.dir, 'rabbitmq.conf'), rabbitConfig(plan), { mode: 0o600 });
  writeFileSync(join(plan.dir, 'rabbitmq-env.conf'), '# ecom: settings come from the environment\n');
  writeFileSync(join(plan.dir, 'enabled_plugins'), '[rabbitmq_management].\n');
}

export function amqpUrlFor(plan: Pick<RabbitNodePlan, 'user' | 'password' | 'amqpPort'>): string {
  return `amqp://${encodeURIComponent(plan.user)}:${encodeURIComponent(plan.password)}@127.0.0.1:${plan.amqpPort}`;
}

export const LOCAL_BROKER_URL = 'amqp://guest:guest@127.0.0.1:5672';

/** Resolves when an AMQP handshake succeeds (credentials included); false after `timeoutMs`. */
export async function amqpAnswers(url: string, timeoutMs: number): Promise<boolean> {
  const { default: amqp } = await import('amqplib');
  try {
    const conn = await withDeadline(amqp.connect(url, { timeout: timeoutMs }), timeoutMs);
    await conn.close().catch(() => {});
    return true;
  } catch {
    return false;
  }
}

/** Polls until the broker accepts a connection, or `deadline` (epoch ms) passes. */
export function waitForAmqp(url: string, deadline: number, isAlive: () => boolean): Promise<boolean> {
  const answered = pollUntil(
    async () => {
      if (!isAlive()) return false;
      return (await amqpAnswers(url, AMQP_TRY_TIMEOUT_MS)) ? true : undefined;
    },
    { what: 'the broker to accept a connection', timeoutMs: Math.max(0, deadline - Date.now()), intervalMs: AMQP_POLL_MS },
  );
  return orOnTimeout(answered, false);
}

function withDeadline<T extends { close(): Promise<void> }>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error('timed out'));
      promise.then((c) => c.close().catch(() => {}), () => {});
    }, ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
