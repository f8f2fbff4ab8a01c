import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Express, type Request, type RequestHandler, type Response } from 'express';
import type { Registry } from 'prom-client';
import { healthHandler, type HealthCheck } from './health.js';
import { errorHandler, HttpError, unknownRoute } from './http-errors.js';
import type { Logger } from './logger.js';
import { createHttpMetrics, type HttpMetrics } from './metrics.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** Request id: taken from X-Request-Id when sane, generated otherwise; echoed back. */
    id: string;
    /** The JSON body's bytes as received (after Content-Encoding), when the app keeps them. */
    rawBody?: Buffer;
  }
}

export interface ServiceAppOptions {
  service: string;
  logger: Logger;
  checks: HealthCheck[];
  /** Adds the service's own routes. Runs after the common middleware, before 404/error handling. */
  routes: (app: Express, registry: Registry) => void;
  bodyLimit?: string;
  /**
   * Answers a GET or HEAD before Express sees it, when it can: returns the route pattern
   * it answers as (for metrics) and owns the response from then on (answering at once
   * or later, errors included), or returns undefined to let Express handle it. For hot
   * reads whose cost would otherwise be mostly Express's own dispatch.
   */
  answerEarly?: EarlyAnswer;
  /**
   * Keeps each JSON body's bytes in `req.rawBody`, for a gateway that passes a body on
   * exactly as it came rather than re-serialising what it parsed.
   */
  keepRawBody?: boolean;
}

/** Takes a request Express has not seen (plain node:http objects): its route pattern, or undefined. */
export type EarlyAnswer = (req: IncomingMessage, res: ServerResponse) => string | undefined;

export interface ServiceApp {
  app: Express;
  registry: Registry;
}

const JSON_TYPES = ['application/json', 'application/*+json'];
const REQUEST_ID_PATTERN = /^[\w.:-]{1,128}$/;
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * The skeleton every service shares: request ids, RED metrics, access logs, JSON
 * bodies with a size limit, /health, /health/live, /metrics, 404 JSON and the error
 * handler. A service adds only its own routes.
 */
export function createServiceApp(options: ServiceAppOptions): ServiceApp {
  const { service, logger, checks, routes } = options;
  const app = express();
  // Express would hash every body for a weak ETag; services that want ETags set their own.
  app.set('etag', false);
  app.set('x-powered-by', false);
  app.set('query parser', 'simple');

  const { registry, observe } = createHttpMetrics(service);
  // One middleware, not three: every router layer costs on each request, and the
  // catalog's cached reads are cheap enough for that to show.
  const parseJson = express.json({ limit: options.bodyLimit ?? '64kb', verify: options.keepRawBody ? keepRawBody : undefined });
  const track = requestTracker(logger, observe);
  app.use(commonMiddleware(track, parseJson));
  if (options.answerEarly) answerBeforeExpress(app, track, options.answerEarly);

  // The service's routes first, so its hot paths match before the operational ones.
  routes(app, registry);

  app.get('/health/live', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/health', healthHandler(checks));
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });

  app.use(unknownRoute);
  app.use(errorHandler(logger));
  return { app, registry };
}

type Track = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Request id (taken from X-Request-Id when sane, generated otherwise, echoed back),
 * metrics and the access log from one 'finish' listener. The access line is at debug
 * level for successes (logging every read at info would cost the catalog's hot path
 * more than its handler), info for 4xx and error for 5xx.
 */
function requestTracker(logger: Logger, observe: HttpMetrics['observe']): Track {
  return (req, res) => {
    const request = req as Request;
    const given = req.headers[REQUEST_ID_HEADER];
    request.id = typeof given === 'string' && REQUEST_ID_PATTERN.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', request.id);
    const start = performance.now();
    res.once('finish', () => {
      const ms = performance.now() - start;
      observe(request, res as Response, ms / 1000);
      const level = res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'info' : 'debug';
      if (!logger.isLevelEnabled(level)) return;
      // originalUrl is Express's; a request answered before Express has only url.
      logger[level]({ reqId: request.id, method: req.method, url: request.originalUrl ?? req.url, status: res.statusCode, ms: Math.round(ms) }, 'request');
    });
  };
}

/**
 * The request's tracking (unless the memory path already started it), then JSON bodies
 * (reads carry none, so they skip the parser).
 */
function commonMiddleware(track: Track, parseJson: RequestHandler): RequestHandler {
  return (req, res, next) => {
    if (req.id === undefined) track(req, res);
    if (req.method === 'GET' || req.method === 'HEAD') next();
    else if (hasBody(req) && !req.is(JSON_TYPES)) next(unsupportedMediaType(req.headers['content-type']));
    else parseJson(req, res, next);
  };
}

type Dispatch = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void;

/**
 * Hot reads skip Express altogether: its dispatch (a final handler made per request,
 * two prototype swaps, the router's walk) cost more than a whole cached answer - a
 * minimal Express handler runs at about a quarter of bare node:http (bench/catalog.ts).
 * Express's `app(req, res)` calls `app.handle`, so wrapping that puts the early path in
 * front for the server and for tests that call the app alike.
 */
function answerBeforeExpress(app: Express, track: Track, answer: EarlyAnswer): void {
  const target = app as unknown as { handle: Dispatch };
  const dispatch = target.handle.bind(app);
  target.handle = (req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD') {
      track(req, res);
      let route: string | undefined;
      try {
        route = answer(req, res);
      } catch {
        // The early path is an optimisation: the router answers (or reports) instead.
        route = undefined;
      }
      if (route !== undefined) {
        (res as Response).locals = { route };
        return;
      }
    }
    dispatch(req, res, next);
  };
}

function keepRawBody(req: Request, _res: Response, body: Buffer): void {
  req.rawBody = body;
}

function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

function unsupportedMediaType(contentType: string | undefined): HttpError {
  const got = contentType ? `got ${contentType}` : 'no Content-Type header';
  return new HttpError(415, 'unsupported_media_type', `request bodies must be JSON (${got})`, [
    { field: 'Content-Type', message: 'must be application/json' },
  ]);
}
