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
  /**
   * Publishes all and resolves once the broker confirmed every one; rejects otherwise,
   * and as soon as `abandon` aborts (shutdown: the batch is rolled back and stays pending).
   */
  publishBatch(messages: OutboxMessage[], abandon?: AbortSignal): Promise<void>;
}

export interface OutboxRelayOptions {
  pool: Pool;
  publisher: MessagePublisher;
  logger: Logger;
  batchSize: number;
  /** How often to look for rows nobody signalled (other replicas, outage leftovers). */
  pollMs: number;
  onBatchPublished?: (count: number) => void;
  /** Batches in flight at once while draining a backlog (default 2). */
  lanes?: number;
}

const RETRY_INITIAL_MS = 100;
const RETRY_MAX_MS = 5_000;
const ORDER_LINGER_MS = 10;
// Two: while the broker confirms one batch, PostgreSQL claims the next (measured: the
// claim is about a third of a round, the confirms half).
const DEFAULT_LANES = 2;

type Signal = 'order' | 'ready' | 'more' | 'stop';

/**
 * Moves outbox rows to the broker: claim a batch with FOR UPDATE SKIP LOCKED (so
 * replicas, and lanes within one, share the work without sending a row twice at once),
 * publish it, wait for the batch's confirms once, commit. Any failure rolls back, so
 * the rows stay pending and are sent again later: delivery is at-least-once and
 * consumers de-duplicate by messageId.
 *
 * The first lane polls and answers new orders; the others only help drain a backlog,
 * woken when a batch comes back full.
 */
export class OutboxRelay {
  private readonly lanes: RelayLane[];
  private running: Promise<void>[] = [];
  private readonly abandon = new AbortController();

  constructor(private readonly options: OutboxRelayOptions) {
    const count = Math.max(1, options.lanes ?? DEFAULT_LANES);
    this.lanes = Array.from({ length: count }, (_, i) => new RelayLane(this, options, i === 0));
  }

  start(): void {
    if (this.running.length === 0) this.running = this.lanes.map((lane) => lane.run());
  }

  /** A new order was committed: end a poll wait (but not a back-off after failures). */
  orderCreated(): void {
    this.lanes[0]!.signal('order');
  }

  /** The broker is (back) up: forget failures and try at once. */
  brokerReady(): void {
    this.lanes[0]!.signal('ready');
  }

  /** A full batch came back: wake the helper lanes. */
  moreWaiting(): void {
    for (const lane of this.lanes.slice(1)) lane.signal('more');
  }

  /**
   * Stops after the batches in flight, which are committed or rolled back, never cut.
   * A batch still waiting for its confirms at `abandonAt` (epoch ms) is abandoned: its
   * transaction rolls back and its rows stay pending for the next start, so a broker
   * that stalls its confirms cannot hold shutdown past the grace period
   * (docs/architecture.md, "Faults"). Its messages may have reached the queue; the
   * consumer de-duplicates the second sending by messageId.
   */
  async close(options: { abandonAt?: number } = {}): Promise<void> {
    for (const lane of this.lanes) lane.signal('stop');
    const stopped = Promise.all(this.running);
    const waitMs = Math.max(0, (options.abandonAt ?? Infinity) - Date.now());
    if (!Number.isFinite(waitMs)) return void (await stopped);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, waitMs);
    });
    await Promise.race([stopped, late]);
    clearTimeout(timer);
    this.abandon.abort(new Error('shutting down: batch abandoned before its confirms; its rows stay pending'));
    await stopped;
  }

  /**
   * One claim-publish-commit round; the number of rows sent. The claim marks the rows
   * sent in the same statement (one round trip fewer); if publishing fails the
   * rollback makes them pending again. Exposed for tests.
   */
  async relayBatch(): Promise<number> {
    const { pool, publisher, batchSize } = this.options;
    const sent = await inTransaction(pool, async (client) => {
      const { rows } = await client.query<{ id: number; order_id: string; payload: string }>({
        name: 'outbox-claim',
        text: `UPDATE outbox SET published_at = now() WHERE id IN (
                 SELECT id FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
               RETURNING id, order_id, payload::text AS payload`,
        values: [batchSize],
      });
      if (rows.length === 0) return 0;
      // RETURNING promises no order; publish oldest first.
      rows.sort((a, b) => a.id - b.id);
      await publisher.publishBatch(
        rows.map((r) => ({ orderId: r.order_id, body: Buffer.from(r.payload) })),
        this.abandon.signal,
      );
      return rows.length;
    });
    if (sent > 0) this.options.onBatchPublished?.(sent);
    return sent;
  }
}

/** One claim-publish-commit loop with its own waits and back-off. */
class RelayLane {
  private readonly signalled = new Set<Signal>();
  private wake: ((signal: Signal) => void) | undefined;
  private failures = 0;

  constructor(
    private readonly relay: OutboxRelay,
    private readonly options: OutboxRelayOptions,
    private readonly lead: boolean,
  ) {}

  signal(signal: Signal): void {
    if (signal === 'ready') this.failures = 0;
    this.signalled.add(signal);
    this.wake?.(signal);
  }

  async run(): Promise<void> {
    while (!this.signalled.has('stop')) {
      const { ms, endOn } = await this.step();
      const ended = await this.wait(ms, endOn);
      // Let the orders committing alongside this one join its batch: under load that
      // is one relay transaction per linger instead of one per order.
      if (ended === 'order') await this.wait(ORDER_LINGER_MS, ['ready']);
    }
  }

  /** Does one round if it can; says how long to wait before the next, and what ends the wait. */
  private async step(): Promise<{ ms: number; endOn: Signal[] }> {
    const { publisher, pollMs, batchSize, logger } = this.options;
    this.signalled.delete('order');
    this.signalled.delete('ready');
    this.signalled.delete('more');
    // Helpers sleep until a full batch wakes them; the lead polls.
    const idle = { ms: this.lead ? pollMs : Infinity, endOn: this.lead ? (['order', 'ready'] as Signal[]) : ['more'] as Signal[] };
    // While the broker is away there is nothing to try: 'ready' ends this wait.
    if (!publisher.ready) return { ms: idle.ms, endOn: ['ready', 'more'] };
    try {
      const sent = await this.relay.relayBatch();
      if (this.failures > 0) logger.info({ failures: this.failures }, 'outbox relay recovered');
      this.failures = 0;
      if (sent < batchSize) return idle;
      // A full batch means more are probably waiting.
      this.relay.moreWaiting();
      return { ms: 0, endOn: [] };
    } catch (err) {
      this.failures++;
      const level = this.failures === 1 ? 'warn' : 'debug';
      logger[level]({ err: (err as Error).message, failures: this.failures }, 'outbox relay batch failed; rows stay pending');
      return { ms: Math.min(RETRY_INITIAL_MS * 2 ** (this.failures - 1), RETRY_MAX_MS), endOn: ['ready'] };
    }
  }

  /** Waits `ms` or until one of `endOn` (or stop) is signalled; says which ended it. */
  private wait(ms: number, endOn: Signal[]): Promise<Signal | 'timeout'> {
    const ends = new Set<Signal>([...endOn, 'stop']);
    const already = [...this.signalled].find((s) => ends.has(s));
    if (already) return Promise.resolve(already);
    if (ms === 0) return Promise.resolve('timeout');
    return new Promise((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(() => end('timeout'), ms) : undefined;
      const end = (reason: Signal | 'timeout') => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve(reason);
      };
      this.wake = (signal) => {
        if (ends.has(signal)) end(signal);
      };
    });
  }
}
