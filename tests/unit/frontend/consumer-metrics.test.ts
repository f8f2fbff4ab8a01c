import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CONSUMPTION_DELAY_BUCKETS_S, createConsumerMetrics } from '../../../src/services/frontend/consumer-metrics.js';
import { findSamples, parseMetrics } from '../../../src/smoke/prometheus-text.js';

async function scrape(registry: Registry) {
  return parseMetrics(await registry.metrics());
}

describe('the frontend consumer metrics', () => {
  it('exposes every outcome and dead-letter reason at zero before the first message', async () => {
    const metrics = await scrape((() => {
      const registry = new Registry();
      createConsumerMetrics(registry);
      return registry;
    })());
    const outcomes = findSamples(metrics, 'orders_consumed_total').map((s) => [s.labels.outcome, s.value]);
    expect(outcomes.sort()).toEqual([['consumed', 0], ['duplicate', 0], ['poison', 0]]);
    const reasons = findSamples(metrics, 'orders_dead_lettered_total').map((s) => [s.labels.reason, s.value]);
    expect(reasons.sort()).toEqual([['invalid', 0], ['rejected', 0]]);
    expect(metrics.get('orders_consumption_delay_seconds')?.type).toBe('histogram');
    expect(findSamples(metrics, 'orders_consumption_delay_seconds', {}, 'orders_consumption_delay_seconds_count')[0]?.value).toBe(0);
  });

  it('observes the time from the order to its consumption, never below zero', async () => {
    const registry = new Registry();
    const consumer = createConsumerMetrics(registry);
    const createdAt = '2025-05-01T10:00:00.000Z';
    const at = (seconds: number) => Date.parse(createdAt) + seconds * 1000;
    consumer.consumed(createdAt, at(0.04));
    consumer.consumed(createdAt, at(7));
    // The order service's clock runs ahead of this one: counted as immediate.
    consumer.consumed(createdAt, at(-2));
    const metrics = await scrape(registry);
    const bucket = (le: string) =>
      findSamples(metrics, 'orders_consumption_delay_seconds', { le }, 'orders_consumption_delay_seconds_bucket')[0]?.value;
    expect(bucket('0.01')).toBe(1);
    expect(bucket('0.05')).toBe(2);
    expect(bucket('5')).toBe(2);
    expect(bucket('10')).toBe(3);
    expect(findSamples(metrics, 'orders_consumption_delay_seconds', {}, 'orders_consumption_delay_seconds_sum')[0]?.value).toBeCloseTo(7.04);
    expect(findSamples(metrics, 'orders_consumed_total', { outcome: 'consumed' })[0]?.value).toBe(3);
    expect(CONSUMPTION_DELAY_BUCKETS_S).toContain(10);
  });

  it('counts a dead-lettered message by reason and as a poison outcome, and duplicates and retries apart', async () => {
    const registry = new Registry();
    const consumer = createConsumerMetrics(registry);
    consumer.deadLettered('invalid');
    consumer.deadLettered('invalid');
    consumer.deadLettered('rejected');
    consumer.duplicate();
    consumer.retried();
    const metrics = await scrape(registry);
    const value = (name: string, labels: Record<string, string> = {}) => findSamples(metrics, name, labels)[0]?.value;
    expect(value('orders_dead_lettered_total', { reason: 'invalid' })).toBe(2);
    expect(value('orders_dead_lettered_total', { reason: 'rejected' })).toBe(1);
    expect(value('orders_consumed_total', { outcome: 'poison' })).toBe(3);
    expect(value('orders_consumed_total', { outcome: 'duplicate' })).toBe(1);
    expect(value('orders_consumed_total', { outcome: 'consumed' })).toBe(0);
    expect(value('orders_consume_retries_total')).toBe(1);
  });
});
