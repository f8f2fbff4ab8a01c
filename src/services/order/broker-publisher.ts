import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { assertOrderTopology, connectBroker, type BrokerLink, type OrderQueues } from '../common/amqp.js';
import { withTimeout } from '../common/health.js';
import type { Logger } from '../common/logger.js';
import type { MessagePublisher, OutboxMessage } from './outbox-relay.js';

export const ORDER_MESSAGE_TYPE = 'order.created';

// Past this the broker is wedged (flow control, a dead link the heartbeat has not
// noticed yet): give up on the batch, which stays pending, and reconnect.
const DEFAULT_CONFIRM_TIMEOUT_MS = 30_000;

export interface OrderPublisherOptions {
  /** How long a batch may wait for its confirms before it fails (default 30 s). */
  confirmTimeoutMs?: number;
}

export interface OrderPublisher extends MessagePublisher {
  /** Calls `listener` now if a channel is open, and after every (re)connect. */
  onReady(listener: () => void): void;
  /** For /health: throws with the reason while no channel is open. */
  check(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Publishes order messages on a confirm channel to the durable orders queue through
 * the default exchange. The channel and topology are recreated on every (re)connect,
 * and `onReady` listeners told, so the relay drains at once instead of at its next poll.
 */
export async function connectOrderPublisher(
  url: string,
  queues: OrderQueues,
  logger: Logger,
  options: OrderPublisherOptions = {},
): Promise<OrderPublisher> {
  const confirmTimeoutMs = options.confirmTimeoutMs ?? DEFAULT_CONFIRM_TIMEOUT_MS;
  const readyListeners: Array<() => void> = [];
  let channel: ConfirmChannel | undefined;
  let model: ChannelModel | undefined;
  let closing = false;
  // mandatory + this set: a message the broker could not route (queue deleted at run
  // time) comes back before its confirm, so its batch fails instead of vanishing.
  // Keyed by message id because two relay lanes may have batches in flight.
  const returned = new Set<string>();

  const link: BrokerLink = await connectBroker(url, logger, async (m) => {
    const ch = await m.createConfirmChannel();
    await assertOrderTopology(ch, queues);
    ch.on('return', (msg: { properties: { messageId?: string } }) => returned.add(String(msg.properties.messageId)));
    ch.on('error', (err: Error) => logger.warn({ err: err.message }, 'order channel error'));
    ch.on('close', () => {
      if (channel !== ch) return;
      channel = undefined;
      // A channel can die alone (a channel-level error); recovery only reacts to the
      // connection, so close it to get a fresh connection and channel.
      if (!closing) void m.close().catch(() => {});
    });
    model = m;
    channel = ch;
    for (const listener of readyListeners) listener();
  });

  return {
    get ready() {
      return channel !== undefined;
    },
    onReady: (listener) => {
      readyListeners.push(listener);
      if (channel) listener();
    },
    check: async () => {
      if (!channel) throw new Error(`broker unreachable: ${link.lastError ?? 'no channel'}`);
    },
    publishBatch: async (messages: OutboxMessage[], abandon?: AbortSignal) => {
      const ch = channel;
      if (!ch) throw new Error(`broker unreachable: ${link.lastError ?? 'no channel'}`);
      abandon?.throwIfAborted();
      for (const m of messages) {
        ch.publish('', queues.orders, m.body, {
          persistent: true,
          mandatory: true,
          messageId: m.orderId,
          contentType: 'application/json',
          type: ORDER_MESSAGE_TYPE,
        });
      }
      try {
        const confirmed = withTimeout(ch.waitForConfirms(), confirmTimeoutMs, `no publisher confirms within ${confirmTimeoutMs} ms`);
        await (abandon ? untilAborted(confirmed, abandon) : confirmed);
      } catch (err) {
        // A batch abandoned at shutdown: close() comes next and ends the connection itself;
        // closing the model here would only start a reconnect in the middle of it.
        if (channel === ch && !closing && !abandon?.aborted) void model?.close().catch(() => {});
        throw err;
      }
      // Returns come before their confirms, so by now every one of this batch is known.
      const unroutable = messages.filter((m) => returned.delete(m.orderId)).length;
      if (unroutable > 0) {
        // Declare the queue again so the retry of this batch has somewhere to go.
        await assertOrderTopology(ch, queues);
        throw new Error(`${unroutable} message(s) were unroutable to queue ${queues.orders}; it was re-declared`);
      }
    },
    close: async () => {
      closing = true;
      await link.close();
    },
  };
}

/** `promise`, or a rejection with the signal's reason as soon as it aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
