import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQueryString } from 'node:querystring';
import type { Express } from 'express';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { createServiceApp, type ServiceApp } from '../common/app-factory.js';
import { pingDatabase, type Pool } from '../common/db/pool.js';
import type { HealthCheck } from '../common/health.js';
import { HttpError, sendError, sendJson, validate } from '../common/http-errors.js';
import type { Logger } from '../common/logger.js';
import { queryInt } from '../common/params.js';
import { hasSearchableText, SearchUnavailableError, type SearchBackend } from './backend.js';
import { createSearchMetrics } from './search-metrics.js';

export interface SearchDeps {
  pool: Pool;
  backend: SearchBackend;
  logger: Logger;
}

export const MAX_QUERY_CHARS = 200;
export const MAX_RESULTS = 50;
const DEFAULT_RESULTS = 10;

const searchQuery = z.object({
  q: z
    // Repeated `q` arrives as an array; a plain "expected string" would not say why.
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be given once, as text') })
    .trim()
    // abort: an empty or over-long q gets one message, not a second one about letters.
    .min(1, { error: 'must not be empty', abort: true })
    .max(MAX_QUERY_CHARS, { error: `must be at most ${MAX_QUERY_CHARS} characters`, abort: true })
    .refine(hasSearchableText, 'must contain at least one letter or digit'),
  limit: queryInt(1, MAX_RESULTS, DEFAULT_RESULTS),
});
type SearchQuery = z.infer<typeof searchQuery>;

export function createSearchApp(deps: SearchDeps): ServiceApp {
  const { pool, backend, logger } = deps;
  const checks: HealthCheck[] = [{ name: 'postgres', check: () => pingDatabase(pool) }];
  // With PostgreSQL as the backend the check above already covers it.
  if (backend.name !== 'postgres') checks.push({ name: backend.name, check: () => backend.ping() });
  let answer: (query: SearchQuery, req: IncomingMessage, res: ServerResponse) => Promise<void>;

  return createServiceApp({
    service: 'search',
    logger,
    checks,
    // The hot path, one search per keystroke: a valid query is answered before Express
    // (its dispatch cost about as much node time as the search's own work). Anything
    // else, a 400 included, goes through the route below.
    answerEarly: (req, res) => {
      const url = req.url ?? '';
      if (!url.startsWith(SEARCH_PREFIX)) return undefined;
      const parsed = searchQuery.safeParse(parseQueryString(url.slice(SEARCH_PREFIX.length)));
      if (!parsed.success) return undefined;
      void answer(parsed.data, req, res);
      return '/search';
    },
    routes: (app: Express, registry: Registry) => {
      const metrics = createSearchMetrics(registry, backend.name);
      answer = async ({ q, limit }, req, res) => {
        let items;
        const started = performance.now();
        const seconds = () => (performance.now() - started) / 1000;
        try {
          items = await backend.search(q, limit);
        } catch (err) {
          metrics.answered('error', seconds());
          sendError(logger, asHttpError(err, req, logger), req, res, '/search');
          return;
        }
        metrics.answered(items.length > 0 ? 'hit' : 'miss', seconds());
        sendJson(res, 200, { query: q, items, count: items.length });
      };

      app.get('/', (_req, res) => {
        res.json({ service: 'search', backend: backend.name, endpoints: ['GET /search?q=…&limit=…'] });
      });

      app.get('/search', (req, res) => answer(validate(searchQuery, req.query, 'query'), req, res));
    },
  });
}

const SEARCH_PREFIX = '/search?';

/** A backend that did not answer is a 503 naming it; any other error stays as it is (a 500). */
function asHttpError(err: unknown, req: IncomingMessage, logger: Logger): unknown {
  if (!(err instanceof SearchUnavailableError)) return err;
  logger.warn({ reqId: (req as { id?: string }).id, err: err.message }, 'search backend unavailable');
  return new HttpError(503, 'search_unavailable', `search is unavailable: ${err.backend} did not answer`, [
    { field: err.backend, message: err.reason },
  ]);
}
