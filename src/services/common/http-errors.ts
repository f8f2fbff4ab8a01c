import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { z } from 'zod';
import type { Logger } from './logger.js';

export interface ErrorDetail {
  field: string;
  message: string;
}

/** An error that maps to an HTTP response: every 4xx/5xx body has this shape. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = 'HttpError';
  }

  toBody() {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

export const badRequest = (message: string, details: ErrorDetail[] = []) =>
  new HttpError(400, 'bad_request', message, details);
export const notFound = (message: string) => new HttpError(404, 'not_found', message);

/** Turns zod issues into `{field, message}` with dotted paths like `items[0].quantity`. */
export function zodDetails(error: z.ZodError, prefix = ''): ErrorDetail[] {
  return error.issues.map((issue) => ({
    field: formatPath(issue.path, prefix),
    message: issue.message,
  }));
}

function formatPath(path: PropertyKey[], prefix: string): string {
  let out = prefix;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out || '(root)';
}

/** Parses `value` or throws a 400 naming each offending field. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, what: string, prefix = ''): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = zodDetails(result.error, prefix);
  throw badRequest(`invalid ${what}: ${details.map((d) => d.field).join(', ')}`, details);
}

/**
 * After the routes: a path some route serves, asked with another method, is 405 with
 * Allow (telling the client what would work); any other path is 404.
 */
export const unknownRoute: RequestHandler = (req, res, next) => {
  const allowed = allowedMethods(req);
  if (allowed.length > 0) {
    res.setHeader('Allow', allowed.join(', '));
    next(new HttpError(405, 'method_not_allowed', `${req.method} is not allowed on ${req.path}; use ${allowed.join(' or ')}`));
    return;
  }
  next(new HttpError(404, 'not_found', `no route for ${req.method} ${req.path}`));
};

interface RouteLayer {
  route?: { methods: Record<string, boolean> };
  match: (path: string) => unknown;
}

function allowedMethods(req: Parameters<RequestHandler>[0]): string[] {
  const stack = (req.app.router as unknown as { stack: RouteLayer[] }).stack;
  const methods = new Set<string>();
  for (const layer of stack) {
    if (!layer.route || !layer.match(req.path)) continue;
    for (const [method, on] of Object.entries(layer.route.methods)) if (on && method !== '_all') methods.add(method.toUpperCase());
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}

/**
 * The last middleware. Known errors keep their status; body-parser errors (bad JSON,
 * too large) become 400/413; anything else is logged and answered 500 without a stack.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => sendError(logger, err, req, res, req.path);
}

/**
 * The error handler's answer, with plain node:http objects: also for requests answered
 * before Express (app-factory.ts, answerEarly).
 */
export function sendError(logger: Logger, err: unknown, req: IncomingMessage, res: ServerResponse, route: string): void {
  const httpError = toHttpError(err);
  if (httpError.status >= 500) {
    logger.error({ err, reqId: (req as { id?: string }).id, route }, 'request failed');
  }
  if (res.headersSent) {
    res.end();
    return;
  }
  sendJson(res, httpError.status, httpError.toBody());
}

/** What Express's `res.status(status).json(body)` sends, without Express. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}

function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  const e = err as { type?: string; status?: number; message?: string } | undefined;
  switch (e?.type) {
    case 'entity.parse.failed':
      // Also reached for valid JSON that is not an object or array (`null`, `3`).
      return badRequest('request body must be a JSON object or array', [{ field: '(body)', message: e.message ?? 'malformed JSON' }]);
    case 'entity.too.large':
      return new HttpError(413, 'payload_too_large', 'request body is too large');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpError(415, 'unsupported_media_type', e.message ?? 'unsupported encoding');
  }
  if (isDependencyOutage(err)) {
    return new HttpError(503, 'dependency_unavailable', 'a dependency is unavailable; retry shortly');
  }
  if (e?.status && e.status >= 400 && e.status < 500) {
    // Other body-parser and router rejections: bad gzip, undecodable %-escapes in a path.
    const message = e.message ?? 'bad request';
    return new HttpError(e.status, 'bad_request', message, [{ field: e.type?.startsWith('encoding') ? '(body)' : '(request)', message }]);
  }
  return new HttpError(500, 'internal', 'internal error');
}

const OUTAGE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000', // connection_exception
  '08001',
  '08003',
  '08006',
  '53300', // too_many_connections
]);

/**
 * A database or network outage is the server's problem but not a bug: 503 tells
 * clients (and load balancers) to retry, where a 500 would say something broke.
 */
export function isDependencyOutage(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | undefined;
  if (e?.code && OUTAGE_CODES.has(e.code)) return true;
  const message = e?.message ?? '';
  return /timeout exceeded when trying to connect|Connection terminated|connect ECONNREFUSED/.test(message);
}
