import { setTimeout as sleep } from 'node:timers/promises';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import type { Registry } from 'prom-client';
import { assertOrderTopology, BROKER_CLOSE_TIMEOUT_MS, connectBroker, type BrokerLink, type OrderQueues } from '../common/amqp.js';
import { withTimeout } from '../common/health.js';
import type { Pool } from '../common/db/pool.js';
import type { Logger } from '../common/logger.js';
import { insertConsumedOrder } from './consumed-orders.js';
import { createConsumerMetrics, type ConsumerMetrics, type DeadLetterReason } from './consumer-metrics.js';
import type { OrderFeed } from './feed.js';
import { parseOrderMessage } from './order-message.js';

export interface OrderConsumerOptions {
  amqpUrl: string;
  queues: OrderQueues;
  pool: Pool;
  feed: OrderFeed;
  logger: Logger;
  /** Where the consumer's series (consumer-metrics.ts) are registered: the service app's registry. */
  registry: Registry;
  prefetch?: number;
  /** First wait before requeueing after a database error; doubles while errors last. */
  retryDelayMs?: number;
}

export interface OrderConsumer {
  readonly broker: BrokerLink;
  /** Stops taking messages, lets in-flight ones settle (ack or requeue), closes the connection. */
  close: () => Promise<void>;
}

const DEFAULT_PREFETCH = 50;
const DEFAULT_RETRY_DELAY_MS = 250;
const MAX_RETRY_DELAY_MS = 5_000;

interface ConsumerState {
  opts: OrderConsumerOptions;
  metrics: ConsumerMetrics;
  stopping: boolean;
  /** Consecutive database failures, for the back-off before a requeue. */
  failures: number;
  wakeRetries: AbortController;
  inFlight: Set<Promise<void>>;
  current?: { channel: Channel; consumerTag: string };
}

/**
 * Consumes the orders queue with manual acks. The effect (a consumed_orders row keyed by
 * message id) is stored before the ack, so a crash between the two only causes a
 * redelivery, which the key turns into a no-op. Poison goes to the dead-letter queue.
 */
export async function startOrderConsumer(opts: OrderConsumerOptions): Promise<OrderConsumer> {
  const state: ConsumerState = {
    opts,
    metrics: createConsumerMetrics(opts.registry),
    stopping: false,
    failures: 0,
    wakeRetries: new AbortController(),
    inFlight: new Set(),
  };
  const broker = await connectBroker(opts.amqpUrl, opts.logger, (model) => attachConsumer(state, model));
  return {
    broker,
    close: async () => {
      state.stopping = true;
      state.wakeRetries.abort();
      const current = state.current;
      // Bounded like the connection's close: a broker that stopped answering never
      // sends CancelOk, and shutdown must stay within its grace period.
      if (current) {
        const cancelled = current.channel.cancel(current.consumerTag);
        await withTimeout(cancelled, BROKER_CLOSE_TIMEOUT_MS, 'no CancelOk').catch(() => {});
      }
      await Promise.allSettled([...state.inFlight]);
      await broker.close();
    },
  };
}

/** Runs after every (re)connect: a fresh channel, the topology, and the consumer. */
async function attachConsumer(state: ConsumerState, model: ChannelModel): Promise<void> {
  const { queues, logger } = state.opts;
  const channel = await model.createChannel();
  channel.on('error', (err: Error) => logger.warn({ err: err.message }, 'order consumer channel error'));
  channel.on('close', () => {
    if (state.current?.channel === channel) state.current = undefined;
    // A channel closed under a live connection (a protocol error) would leave us
    // consuming nothing; closing the connection makes amqplib's recovery rebuild it.
    if (!state.stopping) void model.close().catch(() => {});
  });
  await assertOrderTopology(channel, queues);
  await channel.prefetch(state.opts.prefetch ?? DEFAULT_PREFETCH);
  const { consumerTag } = await channel.consume(
    queues.orders,
    (msg) => {
      if (msg === null) {
        logger.warn({ queue: queues.orders }, 'broker cancelled the order consumer (queue deleted?); reconnecting');
        if (!state.stopping) void model.close().catch(() => {});
        return;
      }
      track(state, handleDelivery(state, channel, msg));
    },
    { noAck: false },
  );
  state.current = { channel, consumerTag };
  logger.info({ queue: queues.orders }, 'consuming orders');
}

function track(state: ConsumerState, work: Promise<void>): void {
  state.inFlight.add(work);
  void work.finally(() => state.inFlight.delete(work));
}

async function handleDelivery(state: ConsumerState, channel: Channel, msg: ConsumeMessage): Promise<void> {
  const parsed = parseOrderMessage(msg.content, msg.properties);
  if (!parsed.ok) return rejectPoison(state, channel, msg, 'invalid', parsed.reason);
  try {
    const stored = await insertConsumedOrder(state.opts.pool, parsed.messageId, parsed.order);
    state.failures = 0;
    settle(state, channel, msg, 'ack');
    if (stored) {
      // Stored and counted like any order, but never shown to shoppers (docs/architecture.md, "Test orders").
      if (!parsed.order.test) state.opts.feed.publish(stored);
      state.metrics.consumed(parsed.order.createdAt);
    } else {
      state.metrics.duplicate();
    }
  } catch (err) {
    if (isPermanentDataError(err)) {
      return rejectPoison(state, channel, msg, 'rejected', `database rejected it: ${(err as Error).message}`);
    }
    await requeueLater(state, channel, msg, err as Error);
  }
}

function rejectPoison(state: ConsumerState, channel: Channel, msg: ConsumeMessage, kind: DeadLetterReason, reason: string): void {
  state.opts.logger.warn(
    { messageId: msg.properties.messageId, reason, bytes: msg.content.length, deadLetterQueue: state.opts.queues.deadLetterQueue },
    'poison order message dead-lettered',
  );
  // requeue=false routes it through the queue's dead-letter exchange.
  settle(state, channel, msg, 'reject');
  state.metrics.deadLettered(kind);
}

/**
 * The database is down or busy: put the message back, but only after a pause that
 * grows while failures last, so a dead database does not become a hot redelivery loop.
 */
async function requeueLater(state: ConsumerState, channel: Channel, msg: ConsumeMessage, err: Error): Promise<void> {
  state.failures++;
  const base = state.opts.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  const delayMs = Math.min(base * 2 ** (state.failures - 1), MAX_RETRY_DELAY_MS);
  state.opts.logger.warn({ messageId: msg.properties.messageId, err: err.message, delayMs }, 'cannot store order; will requeue');
  state.metrics.retried();
  // Shutdown wakes the pause so the requeue happens before the channel closes.
  await sleep(delayMs, undefined, { signal: state.wakeRetries.signal }).catch(() => {});
  settle(state, channel, msg, 'requeue');
}

function settle(state: ConsumerState, channel: Channel, msg: ConsumeMessage, how: 'ack' | 'reject' | 'requeue'): void {
  try {
    if (how === 'ack') channel.ack(msg);
    else channel.nack(msg, false, how === 'requeue');
  } catch (err) {
    // The channel died meanwhile; the broker redelivers the message and the key dedups it.
    state.opts.logger.warn({ messageId: msg.properties.messageId, err: (err as Error).message }, `could not ${how} order message`);
  }
}

/**
 * SQLSTATE classes 22 (data exception) and 23 (integrity constraint) fail the same way
 * on every retry; anything else (connection loss, lock timeout, shutdown) may pass later.
 */
function isPermanentDataError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^2[23]/.test(code);
}
