import type { RequestHandler, Response } from 'express';
import type { Pool } from '../common/db/pool.js';
import type { Logger } from '../common/logger.js';
import { consumedOrdersAfter, recentConsumedOrders } from './consumed-orders.js';
import type { FeedOrder, OrderFeed } from './feed.js';

export interface OrderStreamOptions {
  pool: Pool;
  feed: OrderFeed;
  logger: Logger;
  heartbeatMs: number;
  historySize: number;
}

const LAST_EVENT_ID_PATTERN = /^[\w.:-]{1,200}$/;
const CATCH_UP_LIMIT = 200;
/** A client this far behind is not reading; drop it and let EventSource reconnect and catch up. */
const MAX_BUFFERED_BYTES = 1_000_000;
const RECONNECT_HINT_MS = 3_000;

/**
 * GET /api/orders/stream: history from the database, then live orders from the feed.
 * It subscribes before reading history and holds live orders back until the history is
 * written, so an order consumed in between is neither lost nor sent twice.
 */
export function orderStreamHandler(opts: OrderStreamOptions): RequestHandler {
  return async (req, res) => {
    const stream = new EventStream(res, opts.heartbeatMs);
    let replaying = true;
    const held: FeedOrder[] = [];
    const unsubscribe = opts.feed.subscribe({
      onOrder: (order) => (replaying ? held.push(order) : stream.sendOrder(order)),
      onClose: () => stream.end(),
    });
    stream.onEnd(unsubscribe);
    if (stream.ended) return;

    const history = await loadHistory(opts, headerValue(req.headers['last-event-id']));
    if (stream.ended) return;
    const sent = new Set(history.map((o) => o.messageId));
    for (const order of history) stream.sendOrder(order);
    for (const order of held) if (!sent.has(order.messageId)) stream.sendOrder(order);
    held.length = 0;
    replaying = false;
  };
}

/** One open text/event-stream response: headers, heartbeats, and an end that runs once. */
class EventStream {
  ended = false;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly endHooks: Array<() => void> = [];

  constructor(
    private readonly res: Response,
    heartbeatMs: number,
  ) {
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    // Stops nginx-style proxies from buffering the stream.
    res.setHeader('X-Accel-Buffering', 'no');
    // The socket is this stream's alone; closing it with the stream lets a shutting-down
    // server finish at once instead of waiting out the keep-alive timeout.
    res.setHeader('Connection', 'close');
    res.flushHeaders();
    res.write(`retry: ${RECONNECT_HINT_MS}\n\n`);
    this.heartbeat = setInterval(() => this.write(': heartbeat\n\n'), heartbeatMs);
    this.heartbeat.unref();
    res.once('close', () => this.end());
    res.on('error', () => this.end());
  }

  onEnd(hook: () => void): void {
    if (this.ended) hook();
    else this.endHooks.push(hook);
  }

  sendOrder(order: FeedOrder): void {
    this.write(`id: ${order.messageId}\nevent: order\ndata: ${JSON.stringify(order)}\n\n`);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.heartbeat);
    for (const hook of this.endHooks) hook();
    if (!this.res.writableEnded) this.res.end();
  }

  private write(text: string): void {
    if (this.ended) return;
    if (this.res.writableLength > MAX_BUFFERED_BYTES) {
      this.end();
      return;
    }
    this.res.write(text);
  }
}

/** Newest orders oldest-first, or what a reconnecting client missed since Last-Event-ID. */
async function loadHistory(opts: OrderStreamOptions, lastEventId: string | undefined): Promise<FeedOrder[]> {
  try {
    if (lastEventId && LAST_EVENT_ID_PATTERN.test(lastEventId)) {
      const missed = await consumedOrdersAfter(opts.pool, lastEventId, CATCH_UP_LIMIT);
      if (missed) return missed;
    }
    return (await recentConsumedOrders(opts.pool, opts.historySize)).reverse();
  } catch (err) {
    // Headers are out already; live orders still flow, so the stream stays open.
    opts.logger.warn({ err: (err as Error).message }, 'order stream: cannot load history');
    return [];
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
