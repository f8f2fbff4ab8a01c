import express, { type Express, type RequestHandler } from 'express';
import { z } from 'zod';
import { createServiceApp, type ServiceApp } from '../common/app-factory.js';
import { pingDatabase, type Pool } from '../common/db/pool.js';
import type { HealthCheck } from '../common/health.js';
import { HttpError, notFound, validate } from '../common/http-errors.js';
import type { Logger } from '../common/logger.js';
import { queryInt } from '../common/params.js';
import { findConsumption, recentConsumedOrders } from './consumed-orders.js';
import type { OrderFeed } from './feed.js';
import type { Gateway, UpstreamName } from './gateway.js';
import { loadTemplate, PAGE_SIZE, parseCatalogPage, publicDir, renderStorefront, STOREFRONT_CSP, type StorefrontData } from './page.js';
import { orderStreamHandler } from './stream.js';

export interface FrontendDeps {
  pool: Pool;
  logger: Logger;
  feed: OrderFeed;
  gateway: Gateway;
  /** The consumer's broker link; absent when no consumer runs (some tests). */
  brokerCheck?: () => Promise<void>;
  heartbeatMs?: number;
  /** Page template; read from public/index.html when absent. */
  template?: string;
}

const DEFAULT_HEARTBEAT_MS = 15_000;
const STREAM_HISTORY = 20;
const UPSTREAMS: UpstreamName[] = ['catalog', 'search', 'order'];

const recentQuery = z.object({ limit: queryInt(1, 100, STREAM_HISTORY) });
// guid, as the consumer's message schema: PostgreSQL's uuid takes any 8-4-4-4-12 hex.
const orderIdParam = z.guid('must be a UUID').transform((id) => id.toLowerCase());

export function createFrontendApp(deps: FrontendDeps): ServiceApp {
  const { pool, gateway, feed, logger } = deps;
  const template = deps.template ?? loadTemplate();
  return createServiceApp({
    service: 'frontend',
    logger,
    checks: healthChecks(deps),
    // The gateway passes order bodies on as sent (see Gateway.forward).
    keepRawBody: true,
    routes: (app: Express) => {
      app.use(securityHeaders);
      app.get('/', async (req, res) => {
        const data = await storefrontData(gateway, req.id);
        res.setHeader('Content-Security-Policy', STOREFRONT_CSP);
        res.setHeader('Cache-Control', 'no-cache');
        res.type('html').send(renderStorefront(template, data));
      });
      app.use('/assets', skipTemplate, express.static(publicDir(), { index: false, fallthrough: true, maxAge: '5m', redirect: false }));

      app.get('/api/catalog', (req, res) => gateway.forward('catalog', '/catalog', req, res));
      app.get('/api/catalog/:id', (req, res) => gateway.forward('catalog', `/catalog/${encodeURIComponent(req.params.id)}`, req, res));
      app.get('/api/search', (req, res) => gateway.forward('search', '/search', req, res));
      app.post('/api/orders', (req, res) => gateway.forward('order', '/create-order', req, res));

      app.get('/api/orders/recent', async (req, res) => {
        const { limit } = validate(recentQuery, req.query, 'query');
        const items = await recentConsumedOrders(pool, limit);
        res.json({ items, count: items.length });
      });
      app.get(
        '/api/orders/stream',
        orderStreamHandler({ pool, feed, logger, heartbeatMs: deps.heartbeatMs ?? DEFAULT_HEARTBEAT_MS, historySize: STREAM_HISTORY }),
      );
      // Whether the consumer has stored an order, test orders included (they never reach
      // /recent or /stream): how `ecom smoke` sees its test order arrive.
      app.get('/api/orders/:id/consumed', async (req, res) => {
        const id = validate(orderIdParam, req.params.id, 'order id', 'id');
        const consumption = await findConsumption(pool, id);
        if (!consumption) throw notFound(`order ${id} has not been consumed (yet)`);
        res.json(consumption);
      });
      // After /recent and /stream, which this pattern would otherwise swallow.
      app.get('/api/orders/:id', (req, res) => gateway.forward('order', `/orders/${encodeURIComponent(req.params.id)}`, req, res));
    },
  });
}

/**
 * Only PostgreSQL is critical: without RabbitMQ the live feed stalls and without an
 * upstream one feature fails, but the page and the other features still work.
 */
function healthChecks(deps: FrontendDeps): HealthCheck[] {
  const checks: HealthCheck[] = [{ name: 'postgres', check: () => pingDatabase(deps.pool) }];
  if (deps.brokerCheck) checks.push({ name: 'rabbitmq', critical: false, check: deps.brokerCheck });
  for (const name of UPSTREAMS) checks.push({ name, critical: false, check: () => deps.gateway.ping(name) });
  return checks;
}

/** The first catalogue page, or the reason it is missing: the page renders either way. */
async function storefrontData(gateway: Gateway, requestId: string): Promise<StorefrontData> {
  try {
    const body = await gateway.getJson('catalog', `/catalog?limit=${PAGE_SIZE}`, requestId);
    return { catalog: parseCatalogPage(body) };
  } catch (err) {
    const reason = err instanceof HttpError ? err.message : 'catalog service answered in an unexpected shape';
    return { catalogError: reason };
  }
}

const securityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'same-origin');
  next();
};

/** The template is served rendered at `/`, never raw from /assets. */
const skipTemplate: RequestHandler = (req, _res, next) => {
  if (req.path.endsWith('.html')) {
    next(new HttpError(404, 'not_found', `no route for ${req.method} ${req.originalUrl.split('?')[0]}`));
    return;
  }
  next();
};
