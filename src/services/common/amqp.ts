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
// Low enough that a service started before its broker connects within ~2 s of it.
const RECONNECT_MAX_MS = 2_000;

/**
 * A broker connection that reconnects forever with capped back-off (amqplib's own
 * recovery) and re-runs `onConnect` after every connect, where the caller creates
 * its channels. Never throws at start: a missing broker is a state, not a crash.
 */
export async function connectBroker(
  url: string,
  logger: Logger,
  onConnect: (model: ChannelModel) => Promise<void>,
): Promise<BrokerLink> {
  let connected = false;
  let lastError: string | undefined = 'not connected yet';
  const connection: RecoveringChannelModel = await amqp.connect(url, {
    recovery: {
      initialDelay: RECONNECT_INITIAL_MS,
      maxDelay: RECONNECT_MAX_MS,
      maxRetries: Infinity,
      waitForConnect: false,
      setup: async (model: ChannelModel) => {
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
    close: () => connection.close().catch(() => {}),
  };
}
