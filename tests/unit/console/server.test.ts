/**
 * The console server (src/console/server.ts) with a recording runtime: what it serves,
 * and what it refuses (another Host, writes, a taken port without the fallback). The
 * page itself runs in Chromium in tests/browser/console.test.ts.
 */
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { consoleCharts } from '../../../src/console/charts.js';
import { CONSOLE_CSP, startConsole, type ConsoleSource, type RunningConsole } from '../../../src/console/server.js';
import type { LogLine, LogOptions, SystemStatus } from '../../../src/runtime/types.js';

const STATUS: SystemStatus = {
  runtime: 'local',
  running: true,
  services: [
    { name: 'catalog', state: 'running', ready: 0, desired: 1, restarts: 0, health: 'unreachable', url: 'http://127.0.0.1:1', detail: { kind: 'process', pid: 42 } },
  ],
  dependencies: [{ name: 'prometheus', state: 'missing', detail: 'not installed' }],
  endpoints: { services: { catalog: 'http://127.0.0.1:1', search: '', order: '', frontend: '' } },
};

/** A runtime whose logs yield two lines, then wait until the reader goes away; `aborted` says it was told. */
function recordingSource() {
  const seen = { aborted: false, options: undefined as LogOptions | undefined };
  const source: ConsoleSource = {
    status: async () => STATUS,
    endpoints: async () => STATUS.endpoints,
    async *logs(options: LogOptions): AsyncGenerator<LogLine> {
      seen.options = options;
      yield { service: 'catalog', line: '{"level":30,"time":1,"msg":"catalog listening"}', time: new Date(1) };
      yield { service: 'order', line: '{"level":"info","msg":"request","method":"GET","url":"/orders/1","status":404,"ms":2}' };
      await new Promise<void>((resolve) => options.signal?.addEventListener('abort', () => resolve(), { once: true }));
      seen.aborted = true;
    },
  };
  return { source, seen };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, path: string, options: { host?: string; method?: string; until?: (body: string) => boolean } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: { host: options.host ?? `127.0.0.1:${port}` }, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
        // A stream never ends by itself: stop reading once the test has what it waits for.
        if (options.until?.(body)) {
          req.destroy();
          resolve({ status: res.statusCode!, headers: res.headers, body });
        }
      });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('console server', () => {
  let consoleServer: RunningConsole | undefined;
  let blocker: Server | undefined;
  afterEach(async () => {
    await consoleServer?.close();
    consoleServer = undefined;
    await new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve()));
    blocker = undefined;
  });

  it('serves the page, its script and uPlot from our own origin under a strict CSP', async () => {
    consoleServer = await startConsole({ source: recordingSource().source, port: 0 });
    expect(consoleServer.url).toBe(`http://127.0.0.1:${consoleServer.port}`);
    const page = await get(consoleServer.port, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toContain('unsafe');
    expect(page.body).toContain('<script src="/console.js" defer></script>');
    expect(page.body).not.toMatch(/<script>|style=/);
    for (const [path, type] of [['/console.js', 'text/javascript'], ['/uPlot.js', 'text/javascript'], ['/uPlot.css', 'text/css']]) {
      const file = await get(consoleServer.port, path!);
      expect(file.status, path).toBe(200);
      expect(file.headers['content-type']).toContain(type);
    }
    expect((await get(consoleServer.port, '/uPlot.js')).body).toContain('uPlot');
  });

  it("answers /api/status with the runtime's status as observed, the charts, and 503 for a chart without Prometheus", async () => {
    consoleServer = await startConsole({ source: recordingSource().source, port: 0 });
    // No Prometheus and the one service unreachable: nothing to add, so the runtime's status as is.
    expect(JSON.parse((await get(consoleServer.port, '/api/status')).body)).toEqual(STATUS);
    const charts = JSON.parse((await get(consoleServer.port, '/api/charts')).body) as Array<{ id: string }>;
    expect(charts.map((c) => c.id)).toEqual(consoleCharts().map((c) => c.id));
    const chart = await get(consoleServer.port, `/api/charts/${charts[0]!.id}`);
    expect(chart.status).toBe(503);
    expect(JSON.parse(chart.body)).toEqual({ error: { code: 'no_prometheus', message: expect.stringContaining('Prometheus is not running') } });
    expect((await get(consoleServer.port, '/api/charts/nosuch')).status).toBe(404);
    expect((await get(consoleServer.port, '/nosuch')).status).toBe(404);
  });

  it('tails the logs as server-sent events and stops reading them when the browser goes away', async () => {
    const { source, seen } = recordingSource();
    consoleServer = await startConsole({ source, port: 0 });
    const stream = await get(consoleServer.port, '/api/logs', { until: (body) => body.includes('/orders/1') });
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const events = stream.body.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => JSON.parse(e.slice('data: '.length)) as Record<string, unknown>);
    expect(stream.body.startsWith('event: start\n')).toBe(true);
    expect(events).toEqual([
      { service: 'catalog', time: '1970-01-01T00:00:00.001Z', level: 'info', msg: 'catalog listening', line: '{"level":30,"time":1,"msg":"catalog listening"}' },
      { service: 'order', level: 'info', msg: 'request', detail: 'GET /orders/1 404 2ms', line: expect.stringContaining('"url":"/orders/1"') },
    ]);
    expect(seen.options).toMatchObject({ services: ['catalog', 'search', 'order', 'frontend'], follow: true, tail: 100 });
    await expect.poll(() => seen.aborted).toBe(true);
  });

  it('refuses another Host (DNS rebinding) and anything but reading', async () => {
    consoleServer = await startConsole({ source: recordingSource().source, port: 0 });
    const rebound = await get(consoleServer.port, '/api/status', { host: `attacker.example:${consoleServer.port}` });
    expect(rebound.status).toBe(421);
    expect(rebound.body).not.toContain('catalog');
    expect((await get(consoleServer.port, '/api/status', { host: `localhost:${consoleServer.port}` })).status).toBe(200);
    expect((await get(consoleServer.port, '/api/status', { method: 'POST' })).status).toBe(405);
  });

  it('moves to a free port when its own is taken, if allowed; fails otherwise', async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker!.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as { port: number }).port;
    await expect(startConsole({ source: recordingSource().source, port: taken })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    consoleServer = await startConsole({ source: recordingSource().source, port: taken, anyPortIfTaken: true });
    expect(consoleServer.port).not.toBe(taken);
    expect((await get(consoleServer.port, '/')).status).toBe(200);
  });
});
