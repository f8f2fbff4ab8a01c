import { describe, expect, it } from 'vitest';
import { prometheusStatus } from '../../../src/runtime/local/status.js';
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
