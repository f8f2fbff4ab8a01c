import { Counter, Histogram, type Registry } from 'prom-client';

export type ConsumeOutcome = 'consumed' | 'duplicate' | 'poison';
/** invalid: the message breaks the order contract; rejected: the database refuses it for good. */
export type DeadLetterReason = 'invalid' | 'rejected';

const OUTCOMES: readonly ConsumeOutcome[] = ['consumed', 'duplicate', 'poison'];
const DEAD_LETTER_REASONS: readonly DeadLetterReason[] = ['invalid', 'rejected'];

/**
 * From ten milliseconds (broker and database close by) to a quarter of an hour (orders
 * that waited in the outbox or the queue while the broker or this consumer was away).
 */
export const CONSUMPTION_DELAY_BUCKETS_S = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];

export interface ConsumerMetrics {
  /** A new order stored: counts it and observes the time since its creation. */
  consumed: (createdAt: string, nowMs?: number) => void;
  duplicate: () => void;
  /** A message sent to the dead-letter queue; also its `poison` outcome, so the two never disagree. */
  deadLettered: (reason: DeadLetterReason) => void;
  retried: () => void;
}

/**
 * The consumer's series of docs/architecture.md ("Metrics") on the service's registry.
 * Every label value starts at zero, so rate() and increase() answer before the first event.
 */
export function createConsumerMetrics(registry: Registry): ConsumerMetrics {
  const outcomes = new Counter({
    name: 'orders_consumed_total',
    help: 'Order messages handled by the frontend consumer, by outcome (consumed, duplicate, poison)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const deadLettered = new Counter({
    name: 'orders_dead_lettered_total',
    help: 'Order messages sent to the dead-letter queue, by reason (invalid: breaks the message contract; rejected: refused by the database)',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const retries = new Counter({
    name: 'orders_consume_retries_total',
    help: 'Order messages requeued because the database failed transiently',
    registers: [registry],
  });
  const delay = new Histogram({
    name: 'orders_consumption_delay_seconds',
    help: "Seconds from an order's creation (createdAt in its message) to its storage by the frontend consumer",
    buckets: CONSUMPTION_DELAY_BUCKETS_S,
    registers: [registry],
  });
  for (const outcome of OUTCOMES) outcomes.inc({ outcome }, 0);
  for (const reason of DEAD_LETTER_REASONS) deadLettered.inc({ reason }, 0);

  return {
    consumed: (createdAt, nowMs = Date.now()) => {
      outcomes.inc({ outcome: 'consumed' });
      // Clocks of the order service and this one may differ slightly: never a negative delay.
      delay.observe(Math.max(0, (nowMs - Date.parse(createdAt)) / 1000));
    },
    duplicate: () => outcomes.inc({ outcome: 'duplicate' }),
    deadLettered: (reason) => {
      outcomes.inc({ outcome: 'poison' });
      deadLettered.inc({ reason });
    },
    retried: () => retries.inc(),
  };
}
