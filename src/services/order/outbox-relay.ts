import { inTransaction, type Pool } from '../common/db/pool.js';
import type { Logger } from '../common/logger.js';

/** One outbox row on its way to the broker. */
export interface OutboxMessage {
  orderId: string;
  /** The payload exactly as stored (jsonb text), so the relay never re-serializes. */
  body: Buffer;
}

export interface MessagePublisher {
  /** True while a channel is open; the relay claims no rows otherwise. */
  readonly ready: boolean;
  /** Publishes all and resolves once the broker confirmed every one; rejects otherwise. */
  publishBatch(messages: OutboxMessage[]): Promise<void>;
}

export interface OutboxRelayOptions {
  pool: Pool;
  publisher: MessagePublisher;
  logger: Logger;
  batchSize: number;
  /** How often to look for rows nobody signalled (other replicas, outage leftovers). */
  pollMs: number;
  onBatchPublished?: (count: number) => void;
}

const RETRY_INITIAL_MS = 100;
const RETRY_MAX_MS = 5_000;

/**
 * Moves outbox rows to the broker: claim a batch with FOR UPDATE SKIP LOCKED (so
 * replicas share the work without sending a row twice at once), publish it, wait for
 * the batch's confirms once, mark the rows sent, commit. Any failure rolls back, so the
 * rows stay pending and are sent again later: delivery is at-least-once and consumers
 * de-duplicate by messageId.
 */
export class OutboxRelay {
  private stopped = false;
  private orderSignalled = false;
  private readySignalled = false;
  private failures = 0;
  private loop: Promise<void> | undefined;
  private endWait: (() => void) | undefined;
  private waitEndsOnOrder = false;

  constructor(private readonly options: OutboxRelayOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** A new order was committed: end a poll wait (but not a back-off after failures). */
  orderCreated(): void {
    this.orderSignalled = true;
    if (this.waitEndsOnOrder) this.endWait?.();
  }

  /** The broker is (back) up: forget failures and try at once. */
  brokerReady(): void {
    this.failures = 0;
    this.readySignalled = true;
    this.endWait?.();
  }

  /** Stops after the batch in flight, which is committed or rolled back, never cut. */
  async close(): Promise<void> {
    this.stopped = true;
    this.endWait?.();
    await this.loop;
  }

  /** One claim-publish-commit round; the number of rows sent. Exposed for tests. */
  async relayBatch(): Promise<number> {
    const { pool, publisher, batchSize } = this.options;
    const sent = await inTransaction(pool, async (client) => {
      const { rows } = await client.query<{ id: string; order_id: string; payload: string }>({
        name: 'outbox-claim',
        text: `SELECT id, order_id, payload::text AS payload FROM outbox
               WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        values: [batchSize],
      });
      if (rows.length === 0) return 0;
      await publisher.publishBatch(rows.map((r) => ({ orderId: r.order_id, body: Buffer.from(r.payload) })));
      await client.query({
        name: 'outbox-mark',
        text: 'UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])',
        values: [rows.map((r) => r.id)],
      });
      return rows.length;
    });
    if (sent > 0) this.options.onBatchPublished?.(sent);
    return sent;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const { ms, endsOnOrder } = await this.step();
      await this.wait(ms, endsOnOrder);
    }
  }

  /** Does one round if it can; says how long to wait before the next. */
  private async step(): Promise<{ ms: number; endsOnOrder: boolean }> {
    const { publisher, pollMs, batchSize, logger } = this.options;
    this.orderSignalled = false;
    this.readySignalled = false;
    // While the broker is away there is nothing to try: brokerReady() ends this wait.
    if (!publisher.ready) return { ms: pollMs, endsOnOrder: false };
    try {
      const sent = await this.relayBatch();
      if (this.failures > 0) logger.info({ failures: this.failures }, 'outbox relay recovered');
      this.failures = 0;
      // A full batch means more are probably waiting.
      return { ms: sent === batchSize ? 0 : pollMs, endsOnOrder: true };
    } catch (err) {
      this.failures++;
      const level = this.failures === 1 ? 'warn' : 'debug';
      logger[level]({ err: (err as Error).message, failures: this.failures }, 'outbox relay batch failed; rows stay pending');
      return { ms: Math.min(RETRY_INITIAL_MS * 2 ** (this.failures - 1), RETRY_MAX_MS), endsOnOrder: false };
    }
  }

  private wait(ms: number, endsOnOrder: boolean): Promise<void> {
    if (this.stopped || ms === 0 || this.readySignalled || (endsOnOrder && this.orderSignalled)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.endWait = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.endWait = done;
      this.waitEndsOnOrder = endsOnOrder;
    });
  }
}
