import { describe, expect, it } from 'vitest';
import type { HealthProbe } from '../../../src/core/health-probe.js';
import { describeWaiting, pendingItems, UpProgress, upWarnings } from '../../../src/runtime/local/up-progress.js';
import type { ServiceName } from '../../../src/core/system.js';
import type { ProgressEvent } from '../../../src/runtime/types.js';
import { sampleState } from './fixtures.js';

const all = (health: HealthProbe['health'], detail?: string): Record<ServiceName, HealthProbe> => ({
  catalog: { health, detail },
  search: { health, detail },
  order: { health, detail },
  frontend: { health, detail },
});

describe('what up still waits for', () => {
  it('nothing when every service is ok and the dependencies settled', () => {
    expect(pendingItems(sampleState('/s'), all('ok'))).toEqual([]);
  });

  it('names dependencies still starting and services not answering', () => {
    const state = sampleState('/s');
    state.broker.phase = 'starting';
    const probes = { ...all('ok'), search: { health: 'unreachable' as const, detail: 'not listening yet' } };
    const pending = pendingItems(state, probes);
    expect(describeWaiting(pending)).toBe('broker (RabbitMQ node booting), search (unreachable: not listening yet)');
  });

  it('waits for broker clients to connect when a broker runs, not when it is missing', () => {
    const state = sampleState('/s');
    expect(pendingItems(state, all('degraded')).map((p) => p.what)).toEqual(['order', 'frontend']);
    state.broker = { kind: 'given', phase: 'unreachable', detail: 'given', url: 'amqp://guest:***@127.0.0.1:1' };
    expect(pendingItems(state, all('degraded'))).toEqual([]);
    expect(upWarnings(state)[0]).toContain('amqp://guest:***@127.0.0.1:1 does not answer');
  });

  it('does not wait for broker clients when a running broker stopped answering, and warns', () => {
    const state = sampleState('/s');
    state.broker.url = 'amqp://u:***@127.0.0.1:41000';
    expect(pendingItems(state, all('degraded'), false)).toEqual([]);
    expect(upWarnings(state, false)).toEqual(['broker amqp://u:***@127.0.0.1:41000 stopped answering; orders wait in the outbox until it is back']);
  });

  it('warns when Prometheus could not have its planned port, and not when it did', () => {
    const state = sampleState('/s');
    state.portOffset = 700;
    state.prometheus = { ...state.prometheus, plannedPort: 9790, port: 41234, url: 'http://127.0.0.1:41234' };
    expect(upWarnings(state)).toEqual(['prometheus is on port 41234 instead of 9790 (9090 + port offset 700), which was taken']);
    state.prometheus.port = 9790;
    expect(upWarnings(state)).toEqual([]);
    state.portOffset = 60_000;
    state.prometheus = { ...state.prometheus, plannedPort: 69_090, port: 40_001 };
    expect(upWarnings(state)).toEqual(['prometheus is on port 40001 instead of 69090 (9090 + port offset 60000), which is above 65535']);
  });

  it('warns when the RabbitMQ management UI could not have its planned port', () => {
    const state = sampleState('/s');
    state.portOffset = 100;
    state.broker = { ...state.broker, kind: 'own', phase: 'running', managementPlannedPort: 15_772, managementUrl: 'http://127.0.0.1:38123/' };
    expect(upWarnings(state)).toEqual(['the RabbitMQ management UI is on port 38123 instead of 15772 (15672 + port offset 100), which was taken']);
    state.broker.managementUrl = 'http://127.0.0.1:15772/';
    expect(upWarnings(state)).toEqual([]);
  });

  it('emits start, then done once per task', () => {
    const events: ProgressEvent[] = [];
    const progress = new UpProgress((e) => events.push(e));
    const state = sampleState('/s');
    state.postgres.phase = 'starting';
    progress.update(state, all('unreachable'));
    state.postgres.phase = 'running';
    progress.update(state, all('unreachable'));
    progress.update(state, all('ok'));
    progress.update(state, all('ok'));
    const pg = events.filter((e) => e.task === 'postgres').map((e) => e.kind);
    expect(pg).toEqual(['start', 'done']);
    // Why it waits, once per reason: a live board's row shows it.
    expect(events.filter((e) => e.task === 'order').map((e) => (e.kind === 'waiting' ? `waiting: ${e.reason}` : e.kind))).toEqual([
      'start',
      expect.stringMatching(/^waiting: unreachable/),
      'done',
    ]);
  });
});
