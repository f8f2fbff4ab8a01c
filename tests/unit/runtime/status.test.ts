import { describe, expect, it } from 'vitest';
import { plannedPortOffset } from '../../../src/runtime/local/start.js';
import { prometheusStatus, serviceStatus } from '../../../src/runtime/local/status.js';
import { sampleState } from './fixtures.js';

describe('prometheus in status', () => {
  it('says in its detail when it runs on another port than planned because that one was taken', () => {
    const state = sampleState('/s');
    state.portOffset = 700;
    state.prometheus = { ...state.prometheus, plannedPort: 9790, port: 41234, url: 'http://127.0.0.1:41234' };
    const status = prometheusStatus(state, true);
    expect(status).toMatchObject({ name: 'prometheus', state: 'running', url: 'http://127.0.0.1:41234' });
    expect(status.detail).toBe('scraping the four services every 5s; on port 41234 instead of 9790 (9090 + port offset 700), which was taken');
  });

  it('keeps the plain detail when it has its planned port', () => {
    const state = sampleState('/s');
    state.prometheus.plannedPort = 9090;
    expect(prometheusStatus(state, true).detail).toBe('scraping the four services every 5s');
  });
});

describe('a local service in the runtime-neutral status', () => {
  const now = Date.parse('2026-01-01T00:05:00.000Z');
  const alive = () => true;

  it('is 1/1 ready with its pid and uptime as the detail while its process is ours and /health answers 200', () => {
    const state = sampleState('/s');
    state.services.catalog.startedAt = '2026-01-01T00:02:30.000Z';
    state.services.catalog.restarts = 2;
    expect(serviceStatus(state, 'catalog', { health: 'degraded' }, now, alive)).toEqual({
      name: 'catalog',
      state: 'running',
      ready: 1,
      desired: 1,
      restarts: 2,
      health: 'degraded',
      url: 'http://127.0.0.1:5001',
      detail: { kind: 'process', pid: 1, uptimeSeconds: 150 },
    });
  });

  it('is 0/1 ready when its /health fails, and stopped without a pid when the process is gone', () => {
    const state = sampleState('/s');
    expect(serviceStatus(state, 'order', { health: 'unavailable' }, now, alive)).toMatchObject({ ready: 0, desired: 1, state: 'running' });
    expect(serviceStatus(state, 'order', { health: 'unreachable' }, now, () => false)).toMatchObject({
      ready: 0,
      state: 'stopped',
      detail: { kind: 'process' },
    });
  });
});

describe('the local port offset', () => {
  it('is the one asked for; without one, that of the system already up; else 0', () => {
    expect(plannedPortOffset(300, 700)).toBe(300);
    expect(plannedPortOffset(0, 700)).toBe(0);
    expect(plannedPortOffset(undefined, 700)).toBe(700);
    expect(plannedPortOffset(undefined, undefined)).toBe(0);
  });
});
