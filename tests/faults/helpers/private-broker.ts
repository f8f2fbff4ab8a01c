/**
 * A RabbitMQ node of the test's own, started the way the local runtime starts its own
 * (src/runtime/local/broker.ts: own node name, ports, data directory, private epmd),
 * so a test can stop, kill and start it under load without touching the machine's broker.
 * The data directory survives a restart: durable queues and persistent messages come
 * back with the node.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollUntil } from '../../../src/core/poll.js';
import { OwnRabbitNode, RABBIT_BOOT_TIMEOUT_MS } from '../../../src/runtime/local/broker.js';
import { freePort } from '../../../src/runtime/local/embedded-postgres.js';
import { findRabbitmqServer, type RabbitNodePlan } from '../../../src/runtime/local/rabbitmq.js';

const STOP_GRACE_MS = 20_000;

export interface PrivateBroker {
  readonly url: string;
  readonly plan: RabbitNodePlan;
  /** Stops the node (gracefully, as `rabbitmqctl stop` would) and its epmd. */
  stop(): Promise<void>;
  /**
   * Kills the node's Erlang VM with SIGKILL (a crash: no connection is closed cleanly,
   * nothing unconfirmed is kept), waits for its script to exit, stops its epmd.
   */
  kill(): Promise<void>;
  /** Starts the node again on the same ports and data; resolves once it takes connections. */
  start(): Promise<void>;
  /** Stops the node and removes its directory. */
  destroy(): Promise<void>;
}

function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

async function distinctPorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

export async function startPrivateBroker(): Promise<PrivateBroker> {
  const script = findRabbitmqServer();
  if (!script) {
    throw new Error('rabbitmq-server is not installed; the broker fault tests need it (apt-get install -y rabbitmq-server)');
  }
  // Under /tmp: the node's cookie and sockets want a short path; removed by destroy().
  const dir = mkdtempSync(join(tmpdir(), 'ecom-fault-rabbit-'));
  const [amqpPort, distPort, epmdPort, managementPort] = await distinctPorts(4);
  const plan: RabbitNodePlan = {
    dir,
    nodeName: `ecom-fault-${randomBytes(4).toString('hex')}@localhost`,
    amqpPort: amqpPort!,
    distPort: distPort!,
    epmdPort: epmdPort!,
    managementPort: managementPort!,
    user: `fault-${randomBytes(3).toString('hex')}`,
    password: randomBytes(12).toString('base64url'),
  };
  let node: OwnRabbitNode | undefined;
  const start = async () => {
    // A fresh object per boot: one remembers that its previous process exited.
    const next = new OwnRabbitNode(plan, script, join(dir, 'server.log'));
    node = next;
    next.start(process.env);
    if (!(await next.ready(Date.now() + RABBIT_BOOT_TIMEOUT_MS))) {
      throw new Error(`the test's RabbitMQ node did not accept connections; see ${join(dir, 'log')}`);
    }
  };
  const stop = async () => {
    await node?.stop(STOP_GRACE_MS);
    node = undefined;
  };
  const kill = async () => {
    const killed = node;
    const vm = killed?.vm;
    const script = killed?.process;
    if (!killed || !vm || !script) throw new Error("the test's RabbitMQ node is not running");
    process.kill(vm.pid, 'SIGKILL');
    await pollUntil(() => (isGone(script.pid) ? true : undefined), { what: 'the RabbitMQ script to exit', timeoutMs: 10_000, intervalMs: 50 });
    // Only its epmd is left to stop.
    await stop();
  };
  await start();
  return {
    url: node!.url,
    plan,
    start,
    stop,
    kill,
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
