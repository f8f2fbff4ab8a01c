import { describe, expect, it } from 'vitest';
import { plannedPortOffset } from '../../../src/runtime/local/start.js';
import { prometheusStatus, serviceStatus, supervisorStatus, withRestarts } from '../../../src/runtime/local/status.js';
import { renderStatus } from '../../../src/cli/commands/status.js';
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

describe('the supervisor in the local status', () => {
  it('runs: its pid, nothing orphaned', () => {
    expect(supervisorStatus(sampleState('/s'), () => true)).toEqual({ state: 'running', pid: 10, orphans: [], detail: 'pid 10' });
  });

  it('killed while its parts run: names them, unsupervised, and says to run `ecom up`, also in the rendered status', () => {
    const state = sampleState('/s');
    const gone = supervisorStatus(state, (p) => p !== undefined && p.pid !== 10 && p.pid !== 2);
    expect(gone).toMatchObject({ state: 'gone', pid: 10, orphans: ['catalog', 'order', 'frontend', 'prometheus', 'rabbitmq', 'postgres'] });
    expect(gone.detail).toBe('not running (pid 10 was killed or crashed); catalog, order, frontend, prometheus, rabbitmq, postgres still run, unsupervised');
    expect(gone.hint).toContain('run `ecom up` to recover');
    const text = renderStatus({ runtime: 'local', running: true, services: [], dependencies: [], supervisor: gone });
    expect(text.split('\n').slice(0, 3)).toEqual(['runtime: local', `supervisor: ${gone.detail}`, `  hint: ${gone.hint}`]);
  });
});

describe('a dependency restarted by the supervisor', () => {
  it('shows how often and when last, in its detail and as fields', () => {
    const status = withRestarts({ name: 'postgres', state: 'running', detail: 'embedded PostgreSQL on 127.0.0.1:40000' }, {
      restarts: 2,
      lastRestart: { at: '2026-01-01T00:03:04.567Z', reason: 'signal SIGKILL' },
    });
    expect(status).toEqual({
      name: 'postgres',
      state: 'running',
      detail: 'embedded PostgreSQL on 127.0.0.1:40000; restarted 2×, last 2026-01-01T00:03:04Z after signal SIGKILL',
      restarts: 2,
      lastRestart: '2026-01-01T00:03:04.567Z',
    });
    expect(withRestarts({ name: 'postgres', state: 'running', detail: 'x' }, {})).toEqual({ name: 'postgres', state: 'running', detail: 'x' });
  });
});
