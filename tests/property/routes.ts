/**
 * Every route each service serves, read from the apps' own routers (built in-process
 * with idle dependencies: nothing is called), so a route added later is fuzzed too
 * without anyone remembering to list it here.
 */
import type { Express } from 'express';
import type { ServiceName } from '../../src/core/system.js';
import { createCatalogApp } from '../../src/services/catalog/app.js';
import { PageCache } from '../../src/services/catalog/page-cache.js';
import { createPool } from '../../src/services/common/db/pool.js';
import { createFrontendApp } from '../../src/services/frontend/app.js';
import { OrderFeed } from '../../src/services/frontend/feed.js';
import { Gateway } from '../../src/services/frontend/gateway.js';
import { createOrderApp } from '../../src/services/order/app.js';
import { createSearchApp } from '../../src/services/search/app.js';
import type { SearchBackend } from '../../src/services/search/backend.js';
import { memoryLogger } from '../helpers/services.js';

export interface Route {
  service: ServiceName;
  /** Express pattern, e.g. `/catalog/:id`. */
  path: string;
  methods: string[];
}

interface RouterLayer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
}

/** Static files the frontend serves under a mount rather than a route. */
const MOUNTS: Route[] = [{ service: 'frontend', path: '/assets/:file', methods: ['GET', 'HEAD'] }];

export function listRoutes(): Route[] {
  // Never connects: the apps only keep the pool for handlers that these tests do not call here.
  const pool = createPool('postgres://nobody@127.0.0.1:1/none', 1);
  const logger = memoryLogger('routes');
  const idleBackend: SearchBackend = {
    name: 'postgres',
    search: () => Promise.resolve([]),
    ping: () => Promise.resolve(),
  };
  const feed = new OrderFeed();
  const apps: Array<[ServiceName, Express]> = [
    ['catalog', createCatalogApp({ pool, logger, cache: new PageCache() }).app],
    ['search', createSearchApp({ pool, logger, backend: idleBackend }).app],
    ['order', createOrderApp({ pool, logger }).app],
    [
      'frontend',
      createFrontendApp({
        pool,
        logger,
        feed,
        gateway: new Gateway({ upstreams: { catalog: 'http://127.0.0.1:1', search: 'http://127.0.0.1:1', order: 'http://127.0.0.1:1' }, timeoutMs: 1 }),
      }).app,
    ],
  ];
  feed.close();
  void pool.end();
  const routes: Route[] = [];
  for (const [service, app] of apps) {
    const stack = (app.router as unknown as { stack: RouterLayer[] }).stack;
    for (const layer of stack) {
      if (!layer.route) continue;
      const methods = Object.entries(layer.route.methods)
        .filter(([method, on]) => on && method !== '_all')
        .map(([method]) => method.toUpperCase());
      for (const path of [layer.route.path].flat()) routes.push({ service, path, methods });
    }
  }
  return [...routes, ...MOUNTS];
}
