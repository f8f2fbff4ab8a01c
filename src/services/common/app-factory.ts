import { randomUUID } from 'node:crypto';
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
   * Answers a request from memory before routing, when it can: returns the route
   * pattern it answered as (for metrics), or undefined to let the router handle it.
   * For hot reads whose cost would otherwise be mostly Express's own dispatch.
   */
  answerFromMemory?: (req: Request, res: Response) => string | undefined;
}

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
  app.use(commonMiddleware(logger, observe, express.json({ limit: options.bodyLimit ?? '64kb' }), options.answerFromMemory));

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

/**
 * Request id (taken from X-Request-Id when sane, generated otherwise, echoed back),
 * metrics and the access log from one 'finish' listener, and JSON bodies (reads carry
 * none, so they skip the parser). The access line is at debug level for successes
 * (logging every read at info would cost the catalog's hot path more than its
 * handler), info for 4xx and error for 5xx.
 */
function commonMiddleware(
  logger: Logger,
  observe: HttpMetrics['observe'],
  parseJson: RequestHandler,
  answerFromMemory: ServiceAppOptions['answerFromMemory'],
): RequestHandler {
  return (req, res, next) => {
    const given = req.headers[REQUEST_ID_HEADER];
    req.id = typeof given === 'string' && REQUEST_ID_PATTERN.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', req.id);
    const start = performance.now();
    res.once('finish', () => {
      const ms = performance.now() - start;
      observe(req, res, ms / 1000);
      const level = res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'info' : 'debug';
      if (!logger.isLevelEnabled(level)) return;
      logger[level]({ reqId: req.id, method: req.method, url: req.originalUrl, status: res.statusCode, ms: Math.round(ms) }, 'request');
    });
    if (req.method === 'GET' || req.method === 'HEAD') {
      const route = answerFromMemory?.(req, res);
      if (route === undefined) next();
      else res.locals.route = route;
    }
    else if (hasBody(req) && !req.is(JSON_TYPES)) next(unsupportedMediaType(req.headers['content-type']));
    else parseJson(req, res, next);
  };
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
