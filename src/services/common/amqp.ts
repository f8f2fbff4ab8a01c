import amqp, { type Channel, type ChannelModel, type RecoveringChannelModel } from 'amqplib';
import type { Logger } from './logger.js';

/** Queue names; tests pass their own so parallel runs never share a queue. */
export interface OrderQueues {
  orders: string;
  deadLetterExchange: string;
  deadLetterQueue: string;
}

export function orderQueues(base = 'orders'): OrderQueues {
  return { orders: base, deadLetterExchange: `${base}.dlx`, deadLetterQueue: `${base}.dead` };
}

/**
 * Declares the durable `orders` queue and its dead-letter queue. Publisher and
 * consumer both call this with the same arguments (RabbitMQ refuses a redeclaration
 * with different ones), so either may start first.
 */
export async function assertOrderTopology(channel: Channel, queues: OrderQueues): Promise<void> {
  await channel.assertExchange(queues.deadLetterExchange, 'fanout', { durable: true });
  await channel.assertQueue(queues.deadLetterQueue, { durable: true });
  await channel.bindQueue(queues.deadLetterQueue, queues.deadLetterExchange, '');
  await channel.assertQueue(queues.orders, { durable: true, deadLetterExchange: queues.deadLetterExchange });
}

export interface BrokerLink {
  /** True between a successful (re)connect and the next disconnect. */
  readonly connected: boolean;
  readonly lastError: string | undefined;
  /** Resolves when connected; rejects after `timeoutMs`. For health checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

const RECONNECT_INITIAL_MS = 200;
// A clean close waits for the broker's CloseOk; a broker that stopped answering (the
// confirms stall of docs/architecture.md, "Faults") never sends it, and the heartbeat
// would notice only after minutes. Past this the socket is cut instead, so a service's
// shutdown stays within its grace period.
export const BROKER_CLOSE_TIMEOUT_MS = 1_000;
// Low enough that a service started before its broker connects within ~2 s of it.
const RECONNECT_MAX_MS = 2_000;
// amqplib waits for the TCP connect and the AMQP handshake without a limit by default: a
// broker that accepts the connection but never answers (a node still booting behind a
// Service, a proxy holding the reply) hung the link at "not connected" for good, since
// recovery retries only after an attempt fails. Past this the attempt fails and is retried.
export const BROKER_HANDSHAKE_TIMEOUT_MS = 10_000;

export interface BrokerLinkOptions {
  handshakeTimeoutMs?: number;
}

/**
 * A broker connection that reconnects forever with capped back-off (amqplib's own
 * recovery) and re-runs `onConnect` after every connect, where the caller creates
 * its channels. Never throws at start: a missing broker is a state, not a crash.
 */
export async function connectBroker(
  url: string,
  logger: Logger,
  onConnect: (model: ChannelModel) => Promise<void>,
  options: BrokerLinkOptions = {},
): Promise<BrokerLink> {
  let connected = false;
  let lastError: string | undefined = 'not connected yet';
  let current: ChannelModel | undefined;
  const connection: RecoveringChannelModel = await amqp.connect(url, {
    timeout: options.handshakeTimeoutMs ?? BROKER_HANDSHAKE_TIMEOUT_MS,
    recovery: {
      initialDelay: RECONNECT_INITIAL_MS,
      maxDelay: RECONNECT_MAX_MS,
      maxRetries: Infinity,
      waitForConnect: false,
      setup: async (model: ChannelModel) => {
        current = model;
        await onConnect(model);
      },
    },
  });
  connection.on('connect', () => {
    connected = true;
    lastError = undefined;
    logger.info('broker connected');
  });
  connection.on('disconnect', (err: Error) => {
    connected = false;
    lastError = err?.message ?? 'disconnected';
    logger.warn({ err: lastError }, 'broker disconnected; reconnecting');
  });
  connection.on('connect-failed', (err: Error) => {
    connected = false;
    lastError = err?.message || 'connection refused';
  });
  connection.on('error', (err: Error) => {
    lastError = err?.message;
  });
  return {
    get connected() {
      return connected;
    },
    get lastError() {
      return lastError;
    },
    ping: async () => {
      if (!connected) throw new Error(`broker unreachable: ${lastError ?? 'not connected'}`);
    },
    close: async () => {
      const closed = connection.close().catch(() => {});
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), BROKER_CLOSE_TIMEOUT_MS);
      });
      const outcome = await Promise.race([closed, late]);
      clearTimeout(timer);
      if (outcome === 'late') {
        logger.warn({ timeoutMs: BROKER_CLOSE_TIMEOUT_MS }, 'broker did not answer the close; cutting the connection');
        destroySocket(current);
      }
    },
  };
}

/** amqplib keeps the socket on the model's connection; cutting it ends a close nobody answers. */
function destroySocket(model: ChannelModel | undefined): void {
  const stream = (model as unknown as { connection?: { stream?: { destroy?: () => void } } } | undefined)?.connection?.stream;
  stream?.destroy?.();
}
