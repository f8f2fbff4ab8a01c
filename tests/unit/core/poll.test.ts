import { describe, expect, it } from 'vitest';
import { TimeoutError } from '../../../src/core/errors.js';
import { backoffDelayMs, orOnTimeout, pollUntil, systemClock, type Clock } from '../../../src/core/poll.js';

/** A clock whose sleeps pass instantly and are recorded. */
function fakeClock(start = 1_000_000): Clock & { sleeps: number[] } {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

describe('pollUntil', () => {
  it('returns the first value the check gives, after waiting the interval between tries', async () => {
    const clock = fakeClock();
    let calls = 0;
    const value = await pollUntil(() => (++calls === 3 ? 'ready' : undefined), { what: 'x', timeoutMs: 10_000, intervalMs: 200, clock });
    expect(value).toBe('ready');
    expect(clock.sleeps).toEqual([200, 200]);
  });

  it('ends with false or null too: only undefined asks again', async () => {
    const clock = fakeClock();
    expect(await pollUntil(() => false, { what: 'x', timeoutMs: 1_000, clock })).toBe(false);
    expect(await pollUntil(() => null, { what: 'x', timeoutMs: 1_000, clock })).toBeNull();
    expect(clock.sleeps).toEqual([]);
  });

  it('backs off by the factor and never waits longer than the cap', async () => {
    const clock = fakeClock();
    await expect(
      pollUntil(() => undefined, { what: 'x', timeoutMs: 10_000, intervalMs: 100, backoff: 2, maxIntervalMs: 1_000, clock }),
    ).rejects.toBeInstanceOf(TimeoutError);
    expect(clock.sleeps.slice(0, 7)).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000]);
    expect(Math.max(...clock.sleeps)).toBe(1_000);
  });

  it('shortens the last wait to the deadline and asks once more there', async () => {
    const clock = fakeClock();
    const seen: number[] = [];
    await expect(
      pollUntil(
        ({ elapsedMs }) => {
          seen.push(elapsedMs);
          return undefined;
        },
        { what: 'x', timeoutMs: 1_000, intervalMs: 400, clock },
      ),
    ).rejects.toBeInstanceOf(TimeoutError);
    expect(clock.sleeps).toEqual([400, 400, 200]);
    expect(seen).toEqual([0, 400, 800, 1_000]);
  });

  it('times out with exit code 124 and a message naming what it waited for and the last reason', async () => {
    const err = await pollUntil(
      ({ waiting, attempt }) => {
        waiting(`not listening yet (try ${attempt})`);
        return undefined;
      },
      { what: 'catalog to answer /health', timeoutMs: 2_500, intervalMs: 1_000, clock: fakeClock(), hint: 'see ecom logs catalog' },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).exitCode).toBe(124);
    expect((err as TimeoutError).message).toBe('timed out after 2.5 s waiting for catalog to answer /health: not listening yet (try 4)');
    expect((err as TimeoutError).hint).toBe('see ecom logs catalog');
  });

  it('rethrows a check error at once unless told to retry, then names the last one on timeout', async () => {
    const failing = () => {
      throw new Error('ECONNREFUSED');
    };
    await expect(pollUntil(failing, { what: 'x', timeoutMs: 1_000, clock: fakeClock() })).rejects.toThrow('ECONNREFUSED');
    await expect(pollUntil(failing, { what: 'the broker', timeoutMs: 300, clock: fakeClock(), retryErrors: true })).rejects.toThrow(
      'timed out after 300 ms waiting for the broker: ECONNREFUSED',
    );
  });

  it('stops when the signal aborts, during a wait on the real clock, with the abort reason', async () => {
    const abort = new AbortController();
    const started = Date.now();
    setTimeout(() => abort.abort(new Error('interrupted')), 50);
    await expect(pollUntil(() => undefined, { what: 'x', timeoutMs: 60_000, intervalMs: 10_000, signal: abort.signal })).rejects.toThrow(
      'interrupted',
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('does not ask at all when the signal has already aborted', async () => {
    let calls = 0;
    const abort = new AbortController();
    abort.abort();
    const err = await pollUntil(() => ++calls, { what: 'x', timeoutMs: 1_000, signal: abort.signal }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
    expect(calls).toBe(0);
  });

  it('waits on the system clock for real', async () => {
    const started = Date.now();
    let calls = 0;
    await pollUntil(() => (++calls === 3 ? true : undefined), { what: 'x', timeoutMs: 5_000, intervalMs: 30 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
  });
});

describe('back-off and helpers', () => {
  it('is a fixed interval without a factor, and capped with one', () => {
    expect([1, 2, 3].map((n) => backoffDelayMs(n, { intervalMs: 50 }))).toEqual([50, 50, 50]);
    expect([1, 2, 3, 4, 5].map((n) => backoffDelayMs(n, { intervalMs: 250, backoff: 2, maxIntervalMs: 1_500 }))).toEqual([
      250, 500, 1_000, 1_500, 1_500,
    ]);
  });

  it('turns a timeout into a value with orOnTimeout, and lets other errors through', async () => {
    const clock = fakeClock();
    expect(await orOnTimeout(pollUntil(() => undefined, { what: 'x', timeoutMs: 100, clock }), false)).toBe(false);
    await expect(orOnTimeout(Promise.reject(new Error('other')), false)).rejects.toThrow('other');
  });

  it('system clock sleep resolves early on abort', async () => {
    const abort = new AbortController();
    const started = Date.now();
    setTimeout(() => abort.abort(), 20);
    await systemClock.sleep(10_000, abort.signal);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
