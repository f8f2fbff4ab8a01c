/**
 * The console: a page served on 127.0.0.1 by whatever keeps the system up (the local
 * supervisor, a cluster runtime's forwarder), showing the status `ecom status --json`
 * shows, charts of the dashboards' own queries through Prometheus, the firing alerts
 * and a live log tail (docs/architecture.md, "Console"). It takes a Runtime's status,
 * endpoints and logs and nothing else, so it is the same in every runtime.
 *
 * Loopback only, a Host check against DNS rebinding, GET only, a strict CSP, and a page
 * that renders every value with textContent: the data it shows (log lines, alert
 * summaries) comes from outside.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Endpoints } from '../core/system.js';
import { StatusObserver } from '../observe/observer.js';
import type { Runtime, SystemStatus } from '../runtime/types.js';
import { sourcePath } from '../services/common/paths.js';
import { chartData, chartRange, consoleCharts, PrometheusQueryError, type ConsoleChart } from './charts.js';
import { streamLogs } from './log-stream.js';

export const CONSOLE_HOST = '127.0.0.1';
/** Log tails open at once; each follows every service's log. */
export const MAX_LOG_STREAMS = 8;
/** How long an endpoints answer stands (a cluster runtime's costs an API call). */
const ENDPOINTS_TTL_MS = 5_000;

/** Only our own origin for everything; no inline script or style; no framing. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-resource-policy': 'same-origin',
};

/** What the console needs of a runtime. */
export type ConsoleSource = Pick<Runtime, 'status' | 'endpoints' | 'logs'>;

export interface ConsoleOptions {
  source: ConsoleSource;
  port: number;
  /** When `port` is taken, listen on a free one instead of failing. */
  anyPortIfTaken?: boolean;
  now?: () => number;
}

export interface RunningConsole {
  url: string;
  port: number;
  close(): Promise<void>;
}

interface StaticFile {
  path: string;
  type: string;
}

function staticFiles(): Record<string, StaticFile> {
  const dir = sourcePath('console', 'public');
  const uplot = (file: string) => createRequire(import.meta.url).resolve(`uplot/dist/${file}`);
  return {
    '/': { path: join(dir, 'index.html'), type: 'text/html; charset=utf-8' },
    '/console.js': { path: join(dir, 'console.js'), type: 'text/javascript; charset=utf-8' },
    '/console.css': { path: join(dir, 'console.css'), type: 'text/css; charset=utf-8' },
    '/uPlot.js': { path: uplot('uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
    '/uPlot.css': { path: uplot('uPlot.min.css'), type: 'text/css; charset=utf-8' },
  };
}

class ConsoleHandler {
  private readonly files = staticFiles();
  private readonly charts = new Map<string, ConsoleChart>(consoleCharts().map((c) => [c.id, c]));
  private readonly observer = new StatusObserver();
  private pendingStatus: Promise<SystemStatus> | undefined;
  private endpointsCache: { at: number; value: Endpoints | undefined } | undefined;
  private logStreams = 0;
  port = 0;

  constructor(private readonly options: ConsoleOptions) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    if (!this.hostAllowed(req.headers.host)) return sendError(res, 421, 'wrong_host', 'the console answers only as 127.0.0.1 or localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, 'method_not_allowed', 'the console only reads');
    const path = new URL(req.url ?? '/', 'http://console').pathname;
    const file = this.files[path];
    if (file) return sendFile(res, file);
    if (path === '/api/status') return sendJson(res, 200, await this.status());
    if (path === '/api/charts') return sendJson(res, 200, [...this.charts.values()]);
    if (path.startsWith('/api/charts/')) return this.chart(res, decodeURIComponent(path.slice('/api/charts/'.length)));
    if (path === '/api/logs') return this.logs(req, res);
    return sendError(res, 404, 'not_found', `no such page: ${path}`);
  }

  /** A DNS name that resolves to 127.0.0.1 must not make another site's page our origin. */
  private hostAllowed(host: string | undefined): boolean {
    return host === `${CONSOLE_HOST}:${this.port}` || host === `localhost:${this.port}`;
  }

  /** Concurrent requests (several tabs) share one observation. */
  private status(): Promise<SystemStatus> {
    this.pendingStatus ??= this.options.source
      .status()
      .then((s) => this.observer.observe(s))
      .finally(() => (this.pendingStatus = undefined));
    return this.pendingStatus;
  }

  private async prometheus(): Promise<string | undefined> {
    const now = this.now();
    if (!this.endpointsCache || now - this.endpointsCache.at > ENDPOINTS_TTL_MS) {
      this.endpointsCache = { at: now, value: await this.options.source.endpoints() };
    }
    return this.endpointsCache.value?.prometheus;
  }

  private async chart(res: ServerResponse, id: string): Promise<void> {
    const chart = this.charts.get(id);
    if (!chart) return sendError(res, 404, 'not_found', `no chart ${id}`);
    const prometheus = await this.prometheus();
    if (!prometheus) return sendError(res, 503, 'no_prometheus', 'Prometheus is not running, so there is nothing to chart (install it and run ecom up again)');
    try {
      sendJson(res, 200, await chartData(prometheus, chart, chartRange(this.now())));
    } catch (err) {
      if (!(err instanceof PrometheusQueryError)) throw err;
      sendError(res, 502, 'prometheus', err.message);
    }
  }

  private async logs(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.logStreams >= MAX_LOG_STREAMS) return sendError(res, 503, 'busy', `${MAX_LOG_STREAMS} log tails are open already; close a console tab`);
    this.logStreams++;
    try {
      await streamLogs(req, res, (o) => this.options.source.logs(o));
    } finally {
      this.logStreams--;
    }
  }
}

function sendFile(res: ServerResponse, file: StaticFile): void {
  const body = readFileSync(file.path);
  res.writeHead(200, { 'content-type': file.type, 'content-length': body.length, 'cache-control': 'no-cache' }).end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) }).end(body);
}

/** The services' error shape: `{ error: { code, message } }`. */
function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { error: { code, message } });
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const failed = (err: Error) => reject(err);
    server.once('error', failed);
    server.listen({ port, host: CONSOLE_HOST, exclusive: true }, () => {
      server.off('error', failed);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Serves the console on 127.0.0.1:`port` (or a free port when it is taken and `anyPortIfTaken`). */
export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const handler = new ConsoleHandler(options);
  const server = createServer((req, res) => {
    handler.handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      sendError(res, 500, 'internal', `the console failed: ${(err as Error).message}`);
    });
  });
  let port: number;
  try {
    port = await listen(server, options.port);
  } catch (err) {
    if (!options.anyPortIfTaken || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    port = await listen(server, 0);
  }
  handler.port = port;
  return {
    url: `http://${CONSOLE_HOST}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Log tails never end on their own.
        server.closeAllConnections();
      }),
  };
}
