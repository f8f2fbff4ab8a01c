/**
 * The status observer (src/observe/observer.ts): numbers from Prometheus's recorded
 * series and its firing alerts when it answers (an HTTP server answering as Prometheus
 * does), from two scrapes otherwise, with the gap waited once and a kept scrape reused.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/core/poll.js';
import { SCRAPE_GAP_MS, StatusObserver } from '../../../src/observe/observer.js';
import { STATUS_SERIES } from '../../../src/observe/prometheus.js';
import type { ServiceStatus, SystemStatus } from '../../../src/runtime/types.js';

const service = (name: ServiceStatus['name'], port: number, health: ServiceStatus['health'] = 'ok'): ServiceStatus => ({
  name,
  state: 'running',
  ready: 1,
  desired: 1,
  restarts: 0,
  health,
  url: `http://127.0.0.1:${port}`,
  detail: { kind: 'process' },
});

const system = (services: ServiceStatus[], prometheus?: string): SystemStatus => ({
  runtime: 'local',
  running: true,
  services,
  dependencies: [],
  endpoints: { services: { catalog: '', search: '', order: '', frontend: '' }, ...(prometheus ? { prometheus } : {}) },
});

/** Time that moves only when the observer sleeps, and records how long it slept. */
function fakeClock(): Clock & { slept: number[] } {
  let now = 1_000_000;
  const slept: number[] = [];
  const sleep = async (ms: number) => {
    slept.push(ms);
    now += ms;
  };
  return { slept, now: () => now, sleep };
}

/** /metrics text with `n` GET /catalog answers, `errors` of them 500, each taking 3 ms. */
function metricsText(n: number, errors = 0): string {
  const lines = ['# TYPE http_requests_total counter'];
  lines.push(`http_requests_total{method="GET",route="/catalog",status_code="200",service="catalog"} ${n - errors}`);
  if (errors > 0) lines.push(`http_requests_total{method="GET",route="/catalog",status_code="500",service="catalog"} ${errors}`);
  lines.push('# TYPE http_request_duration_seconds histogram');
  for (const le of ['0.001', '0.005', '+Inf']) lines.push(`http_request_duration_seconds_bucket{le="${le}",method="GET",route="/catalog",service="catalog"} ${le === '0.001' ? 0 : n}`);
  return `${lines.join('\n')}\n`;
}

describe('observer without Prometheus', () => {
  it('scrapes every reachable service twice, one gap apart for all, and says where the numbers come from', async () => {
    const clock = fakeClock();
    const counts = new Map<string, number>();
    const scraped: string[] = [];
    const scrape = async (url: string) => {
      scraped.push(url);
      const n = (counts.get(url) ?? 0) + 4;
      counts.set(url, n);
      return metricsText(n, n / 4 - 1);
    };
    const observer = new StatusObserver({ scrape, clock });
    const status = await observer.observe(system([service('catalog', 1), service('search', 2), service('order', 3, 'unreachable')]));
    expect(clock.slept).toEqual([SCRAPE_GAP_MS]);
    expect(scraped.sort()).toEqual(['http://127.0.0.1:1', 'http://127.0.0.1:1', 'http://127.0.0.1:2', 'http://127.0.0.1:2']);
    expect(status.services[0]!.metrics).toEqual({ source: 'scrape', windowSeconds: 1, requestsPerSecond: 4, errorRatio: 0.25, p95Seconds: expect.closeTo(0.0048, 6) });
    expect(status.services[2]!.metrics).toBeUndefined();
    expect(status.alerts).toBeUndefined();

    // A refresh compares with the kept scrape: one more scrape each, no wait.
    await observer.observe(system([service('catalog', 1)]));
    expect(clock.slept).toEqual([SCRAPE_GAP_MS]);
  });

  it('leaves a service without numbers when its /metrics fails, and passes a stopped system through', async () => {
    const observer = new StatusObserver({ scrape: () => Promise.reject(new Error('ECONNRESET')), clock: fakeClock() });
    const status = await observer.observe(system([service('catalog', 1)]));
    expect(status.services[0]!.metrics).toBeUndefined();
    const stopped: SystemStatus = { runtime: 'local', running: false, services: [], dependencies: [] };
    expect(await observer.observe(stopped)).toBe(stopped);
  });
});

describe('observer with Prometheus', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  /** A Prometheus that answers the recorded series and the alerts API; `seen` collects the queries. */
  async function fakePrometheus(seen: string[]): Promise<string> {
    const vector = (values: Record<string, string>) => ({
      status: 'success',
      data: { resultType: 'vector', result: Object.entries(values).map(([svc, v]) => ({ metric: { service: svc }, value: [1, v] })) },
    });
    const answers: Record<string, unknown> = {
      [STATUS_SERIES.requestsPerSecond]: vector({ catalog: '2.5', search: '0' }),
      [STATUS_SERIES.errorRatio]: vector({ catalog: '0.1', search: 'NaN' }),
      [STATUS_SERIES.p95Seconds]: vector({ catalog: '0.0123', search: 'NaN' }),
    };
    const alerts = [
      { labels: { alertname: 'EcomTargetDown', service: 'order', severity: 'page' }, annotations: { summary: 'cannot scrape order' }, state: 'firing', activeAt: '2030-01-01T00:00:00Z' },
      { labels: { alertname: 'EcomHighErrorRatio', service: 'catalog', severity: 'page' }, annotations: {}, state: 'pending' },
    ];
    server = createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      const body = url.pathname === '/api/v1/alerts' ? { status: 'success', data: { alerts } } : answers[seen[seen.push(url.searchParams.get('query')!) - 1]!];
      res.writeHead(body ? 200 : 400, { 'content-type': 'application/json' }).end(JSON.stringify(body ?? { status: 'error' }));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it("reads the rules' recorded series per service (NaN as unknown) and the firing alerts, never scraping", async () => {
    const seen: string[] = [];
    const prometheus = await fakePrometheus(seen);
    const observer = new StatusObserver({ scrape: () => Promise.reject(new Error('must not scrape')), clock: fakeClock() });
    const status = await observer.observe(system([service('catalog', 1), service('search', 2), service('order', 3)], prometheus));
    expect(seen.sort()).toEqual(Object.values(STATUS_SERIES).sort());
    expect(status.services.map((s) => s.metrics)).toEqual([
      { source: 'prometheus', windowSeconds: 300, requestsPerSecond: 2.5, errorRatio: 0.1, p95Seconds: 0.0123 },
      { source: 'prometheus', windowSeconds: 300, requestsPerSecond: 0 },
      { source: 'prometheus', windowSeconds: 300 },
    ]);
    expect(status.alerts).toEqual([
      { name: 'EcomTargetDown', severity: 'page', service: 'order', summary: 'cannot scrape order', activeAt: '2030-01-01T00:00:00Z', labels: { alertname: 'EcomTargetDown', service: 'order', severity: 'page' } },
    ]);
  });

  it('falls back to scraping when the Prometheus it was given does not answer', async () => {
    const observer = new StatusObserver({ scrape: async () => metricsText(1), clock: fakeClock() });
    const status = await observer.observe(system([service('catalog', 1)], 'http://127.0.0.1:1'));
    expect(status.services[0]!.metrics?.source).toBe('scrape');
    expect(status.alerts).toBeUndefined();
  });
});
