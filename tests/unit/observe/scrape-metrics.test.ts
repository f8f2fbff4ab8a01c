/** RED numbers from two /metrics scrapes (src/observe/scrape-metrics.ts): real prom-client text, Prometheus's rules. */
import { describe, expect, it } from 'vitest';
import { counterIncrease, histogramQuantile, redBetween, redSnapshot } from '../../../src/observe/scrape-metrics.js';
import { createHttpMetrics } from '../../../src/services/common/metrics.js';
import type { Request, Response } from 'express';

/** A service's real metrics registry, fed requests as the app factory feeds it. */
function fakeService() {
  const metrics = createHttpMetrics('catalog');
  const answer = (route: string, status: number, seconds: number, method = 'GET') =>
    metrics.observe({ method, route: { path: route }, baseUrl: '', res: { locals: {} } } as unknown as Request, { statusCode: status } as Response, seconds);
  return { answer, text: () => metrics.registry.metrics() };
}

describe('counter increase between two scrapes', () => {
  it('is the difference, or the whole new value after a restart, or all of a new series', () => {
    expect(counterIncrease(10, 25)).toBe(15);
    expect(counterIncrease(40, 3)).toBe(3);
    expect(counterIncrease(undefined, 7)).toBe(7);
  });
});

describe('histogram quantile as Prometheus computes it', () => {
  const buckets = (pairs: Array<[number, number]>) => new Map(pairs);

  it('interpolates inside the bucket that holds the rank, the first bucket starting at 0', () => {
    // 100 observations: 50 up to 0.1 s, 40 more up to 0.5 s, 10 more up to 1 s. The 95th is the 5th of the last 10.
    expect(histogramQuantile(0.95, buckets([[0.1, 50], [0.5, 90], [1, 100], [Infinity, 100]]))).toBeCloseTo(0.75, 10);
    expect(histogramQuantile(0.5, buckets([[0.1, 50], [0.5, 90], [1, 100], [Infinity, 100]]))).toBeCloseTo(0.1, 10);
    expect(histogramQuantile(0.25, buckets([[0.1, 50], [0.5, 90], [Infinity, 90]]))).toBeCloseTo(0.045, 10);
  });

  it('answers the highest finite bound when the rank falls into +Inf', () => {
    expect(histogramQuantile(0.95, buckets([[0.1, 1], [0.5, 2], [Infinity, 10]]))).toBe(0.5);
  });

  it('has no answer without observations or without a +Inf bucket', () => {
    expect(histogramQuantile(0.95, buckets([[0.1, 0], [Infinity, 0]]))).toBeUndefined();
    expect(histogramQuantile(0.95, buckets([[0.1, 3], [0.5, 4]]))).toBeUndefined();
  });
});

describe('RED numbers between two scrapes of a real registry', () => {
  it('counts requests per second, 5xx share and p95 of what happened between the scrapes only', async () => {
    const service = fakeService();
    for (let i = 0; i < 10; i++) service.answer('/catalog', 200, 0.002);
    const before = redSnapshot(await service.text(), 1_000);
    for (let i = 0; i < 18; i++) service.answer('/catalog/:id', 200, 0.004);
    service.answer('/catalog/:id', 500, 0.3);
    service.answer('/catalog/:id', 404, 0.004);
    const after = redSnapshot(await service.text(), 3_000);

    const m = redBetween(before, after)!;
    expect(m.source).toBe('scrape');
    expect(m.windowSeconds).toBe(2);
    expect(m.requestsPerSecond).toBe(10);
    // 4xx is the client's mistake; only the 500 counts.
    expect(m.errorRatio).toBe(0.05);
    // 20 requests: 19 within 0.005 s (bucket 0.0025..0.005), the 500 in 0.25..0.5. Rank 19 is the bucket's last.
    expect(m.p95Seconds).toBeCloseTo(0.005, 10);
  });

  it("leaves out the observer's own GET /metrics, so an idle service reads zero", async () => {
    const service = fakeService();
    const before = redSnapshot(await service.text(), 0);
    service.answer('/metrics', 200, 0.01);
    const after = redSnapshot(await service.text(), 1_000);
    expect(redBetween(before, after)).toEqual({ source: 'scrape', windowSeconds: 1, requestsPerSecond: 0 });
  });

  it('counts a restarted service from zero instead of a negative rate', async () => {
    const old = fakeService();
    for (let i = 0; i < 50; i++) old.answer('/catalog', 200, 0.002);
    const before = redSnapshot(await old.text(), 0);
    const restarted = fakeService();
    for (let i = 0; i < 4; i++) restarted.answer('/catalog', 200, 0.2);
    const m = redBetween(before, redSnapshot(await restarted.text(), 2_000))!;
    expect(m.requestsPerSecond).toBe(2);
    expect(m.errorRatio).toBe(0);
    // All four in 0.1..0.25: rank 3.8 of 4, interpolated, not the old 2 ms observations.
    expect(m.p95Seconds).toBeCloseTo(0.1 + 0.15 * (3.8 / 4), 10);
  });

  it('has no numbers for snapshots out of order', async () => {
    const text = await fakeService().text();
    expect(redBetween(redSnapshot(text, 2_000), redSnapshot(text, 2_000))).toBeUndefined();
  });

  it('refuses text that is not the exposition format', () => {
    expect(() => redSnapshot('<html>not metrics</html>', 0)).toThrow(/line 1/);
  });
});
