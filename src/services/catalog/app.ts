import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Express } from 'express';
import { z } from 'zod';
import type { HealthCheck } from '../common/health.js';
import { createServiceApp, type ServiceApp } from '../common/app-factory.js';
import { pingDatabase, type Pool } from '../common/db/pool.js';
import { notFound, validate } from '../common/http-errors.js';
import type { Logger } from '../common/logger.js';
import { integerId, queryInt } from '../common/params.js';
import { PageCache, type CachedPage } from './page-cache.js';
import { findProduct, listProductsAfter, listProductsByOffset } from './queries.js';

export interface CatalogDeps {
  pool: Pool;
  logger: Logger;
  cache: PageCache;
  extraChecks?: HealthCheck[];
}

export const MAX_PAGE_SIZE = 100;
const DEFAULT_PAGE_SIZE = 20;

const listQuery = z
  .object({
    limit: queryInt(1, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE),
    offset: queryInt(0, 10_000_000, 0),
    cursor: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,16}$/, 'must be a cursor from a previous "next" link')
      .transform(decodeCursor)
      .optional(),
  })
  .refine((q) => !(q.cursor !== undefined && q.offset !== 0), { message: 'use either offset or cursor, not both', path: ['cursor'] });

export function createCatalogApp(deps: CatalogDeps): ServiceApp {
  const { pool, cache } = deps;
  return createServiceApp({
    service: 'catalog',
    logger: deps.logger,
    checks: [{ name: 'postgres', check: () => pingDatabase(pool) }, ...(deps.extraChecks ?? [])],
    // The hot path: a URL served before is answered from memory before Express, without
    // parsing its query (only URLs that passed validation ever get an entry).
    answerEarly: (req, res) => {
      const page = cache.get(req.url ?? '');
      if (!page || isMissing(page)) return undefined;
      sendCached(req, res, page);
      return page.route;
    },
    routes: (app: Express) => {
      app.get('/', (_req, res) => {
        res.json({ service: 'catalog', endpoints: ['GET /catalog', 'GET /catalog/:id'] });
      });

      app.get('/catalog', async (req, res) => {
        const q = validate(listQuery, req.query, 'query');
        const page = await cache.getOrLoad(req.url, '/catalog', async () => {
          if (q.cursor !== undefined) {
            const items = await listProductsAfter(pool, q.limit, q.cursor);
            const last = items.at(-1);
            const next = items.length === q.limit && last ? `/catalog?limit=${q.limit}&cursor=${encodeCursor(last.id)}` : null;
            return { items, limit: q.limit, next };
          }
          const { items, total } = await listProductsByOffset(pool, q.limit, q.offset);
          const nextOffset = q.offset + items.length;
          const next = nextOffset < total && items.length > 0 ? `/catalog?limit=${q.limit}&offset=${nextOffset}` : null;
          return { items, total, limit: q.limit, offset: q.offset, next };
        });
        sendCached(req, res, page);
      });

      app.get('/catalog/:id', async (req, res) => {
        const id = validate(integerId, req.params.id, 'product id', 'id');
        const page = await cache.getOrLoad(req.url, '/catalog/:id', async () => (await findProduct(pool, id)) ?? null);
        // A missing product is cached too (as JSON null), so repeated misses stay cheap.
        if (isMissing(page)) throw notFound(`product ${req.params.id} does not exist`);
        sendCached(req, res, page);
      });
    },
  });
}

const isMissing = (page: CachedPage) => page.body.length === 4; // JSON null

/**
 * 304 when the client already has this version; otherwise the stored bytes, no
 * re-serialization. Plain node:http calls: it also answers requests Express has not seen.
 */
function sendCached(req: IncomingMessage, res: ServerResponse, page: CachedPage): void {
  res.setHeader('ETag', page.etag);
  res.setHeader('Cache-Control', 'no-cache');
  if (req.headers['if-none-match'] === page.etag) {
    res.statusCode = 304;
    res.end();
    return;
  }
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(page.body);
}

function encodeCursor(lastId: number): string {
  return Buffer.from(String(lastId)).toString('base64url');
}

function decodeCursor(cursor: string, ctx: z.RefinementCtx): number {
  const text = Buffer.from(cursor, 'base64url').toString();
  const id = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(id)) {
    ctx.addIssue({ code: 'custom', message: 'is not a cursor from a "next" link' });
    return z.NEVER;
  }
  return id;
}
