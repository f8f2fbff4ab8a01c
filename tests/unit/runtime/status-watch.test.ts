/** `ecom status --watch` (src/cli/commands/status.ts), driven with a fake runtime. */
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { watchStatus } from '../../../src/cli/commands/status.js';
import { NO_PAINT } from '../../../src/core/text.js';
import type { Runtime, SystemStatus } from '../../../src/runtime/types.js';

const STATUS: SystemStatus = {
  runtime: 'local',
  running: true,
  services: [
    {
      name: 'catalog',
      state: 'running',
      ready: 1,
      desired: 1,
      restarts: 0,
      health: 'ok',
      url: 'http://127.0.0.1:5001',
      detail: { kind: 'process', pid: 42, uptimeSeconds: 3 },
    },
  ],
  dependencies: [{ name: 'postgres', state: 'running', detail: 'embedded PostgreSQL on 127.0.0.1:40000' }],
};

/** A runtime whose status() runs `onRefresh` with the refresh number before answering. */
function fakeRuntime(onRefresh: (n: number) => void): Runtime {
  let n = 0;
  return {
    status: async () => {
      onRefresh(++n);
      return STATUS;
    },
  } as Partial<Runtime> as Runtime;
}

describe('status --watch', () => {
  it('holds at most one abort listener however many times it refreshes', async () => {
    const stop = new AbortController();
    const listeners: number[] = [];
    const runtime = fakeRuntime((n) => {
      listeners.push(getEventListeners(stop.signal, 'abort').length);
      if (n === 30) stop.abort();
    });
    await watchStatus(runtime, { mode: 'plain', paint: NO_PAINT, signal: stop.signal, intervalMs: 1, write: () => {} });
    expect(listeners).toHaveLength(30);
    expect(Math.max(...listeners)).toBeLessThanOrEqual(1);
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
  });

  it('with --json writes one compact JSON document per line per refresh', async () => {
    const stop = new AbortController();
    const written: string[] = [];
    const runtime = fakeRuntime((n) => n === 3 && stop.abort());
    await watchStatus(runtime, { mode: 'json', paint: NO_PAINT, signal: stop.signal, intervalMs: 1, write: (t) => written.push(t) });
    const text = written.join('');
    const lines = text.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(JSON.parse(line)).toEqual(STATUS);
  });

  it('ends at once when interrupted during the wait', async () => {
    const stop = new AbortController();
    const runtime = fakeRuntime(() => setImmediate(() => stop.abort()));
    await watchStatus(runtime, { mode: 'plain', paint: NO_PAINT, signal: stop.signal, intervalMs: 3_600_000, write: () => {} });
    expect(stop.signal.aborted).toBe(true);
  });
});
