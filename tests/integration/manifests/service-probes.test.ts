/**
 * The manifests against the running code: each service, on a real database, answers
 * the readiness and liveness paths its Deployment probes and serves the metrics path
 * Prometheus scrapes; and every call the frontend makes to the services behind it is one
 * the Istio policies allow.
 */
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_NAMES, type ServiceName } from '../../../src/core/system.js';
import type { KubeObject } from '../../../src/manifests/objects.js';
import { createCatalogApp } from '../../../src/services/catalog/app.js';
import { PageCache } from '../../../src/services/catalog/page-cache.js';
import { createFrontendApp } from '../../../src/services/frontend/app.js';
import { OrderFeed } from '../../../src/services/frontend/feed.js';
import { Gateway } from '../../../src/services/frontend/gateway.js';
import { createOrderApp } from '../../../src/services/order/app.js';
import { createSearchApp } from '../../../src/services/search/app.js';
import type { Express } from 'express';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { memoryLogger } from '../../helpers/services.js';
import { serve, type Upstream } from '../frontend/helpers.js';
import { isAllowed } from '../../unit/manifests/istio-authz.js';
import { find, podTemplate, readYaml, rendered } from '../../unit/manifests/rendered.js';

type Upstreams = 'catalog' | 'search' | 'order';
const UPSTREAMS: Upstreams[] = ['catalog', 'search', 'order'];

/** An upstream that records every request and answers a plausible JSON body. */
function recordingUpstream(calls: { method: string; path: string }[]): Express {
  const app = express();
  app.use((req, res) => {
    calls.push({ method: req.method, path: req.originalUrl });
    const created = req.method === 'POST';
    res.status(created ? 201 : 200).json(created ? { id: 1, status: 'accepted', items: [] } : { items: [], total: 0, id: 1 });
  });
  return app;
}

describe('the manifests against the running services', () => {
  let db: TestDatabase;
  let objects: KubeObject[];
  const apps = {} as Record<ServiceName, Express>;
  const recorded = {} as Record<Upstreams, { method: string; path: string }[]>;
  const upstreams: Upstream[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    objects = await rendered('kind');
    for (const name of UPSTREAMS) {
      recorded[name] = [];
      upstreams.push(await serve(recordingUpstream(recorded[name])));
    }
    const [catalog, search, order] = upstreams.map((u) => u.url) as [string, string, string];
    apps.catalog = createCatalogApp({ pool: db.pool, logger: memoryLogger('catalog'), cache: new PageCache() }).app;
    const backend = { name: 'elasticsearch' as const, search: async () => [], ping: async () => {} };
    apps.search = createSearchApp({ pool: db.pool, logger: memoryLogger('search'), backend }).app;
    apps.order = createOrderApp({ pool: db.pool, logger: memoryLogger('order') }).app;
    const gateway = new Gateway({ upstreams: { catalog, search, order }, timeoutMs: 2_000 });
    apps.frontend = createFrontendApp({ pool: db.pool, logger: memoryLogger('frontend'), feed: new OrderFeed(), gateway, brokerCheck: async () => {} }).app;
  });
  afterAll(async () => {
    await Promise.all(upstreams.map((u) => u.close()));
    await db?.drop();
  });

  it.each(SERVICE_NAMES)('%s answers 200 on the paths its probes use', async (service) => {
    const container = podTemplate(find(objects, 'Deployment', 'ecommerce', service)).spec.containers[0]!;
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      const path = probe?.httpGet?.path;
      expect(path, service).toBeDefined();
      const res = await request(apps[service]).get(path!);
      expect(res.status, `${service} ${path}: ${res.text}`).toBe(200);
    }
  });

  it.each(SERVICE_NAMES)('%s serves Prometheus text on the path Prometheus scrapes', async (service) => {
    type Values = { serverFiles: { 'prometheus.yml': { scrape_configs: { job_name: string; metrics_path: string }[] } } };
    const job = readYaml<Values>('manifests', 'helm', 'prometheus-values.yaml').serverFiles['prometheus.yml'].scrape_configs.find((j) => j.job_name === 'ecom-services')!;
    const res = await request(apps[service]).get(job.metrics_path).expect(200);
    expect(res.text).toContain('http_requests_total');
  });

  it('every call the frontend makes to catalog, search and order is allowed by the Istio policies', async () => {
    const frontend = apps.frontend;
    await request(frontend).get('/');
    await request(frontend).get('/api/catalog?limit=3');
    await request(frontend).get('/api/catalog/1');
    await request(frontend).get('/api/search?q=laptop');
    await request(frontend).post('/api/orders').send({ customer: { email: 'a@b.test', name: 'A' }, items: [{ productId: 1, quantity: 1 }] });
    await request(frontend).get('/api/orders/1');
    await request(frontend).get('/health');
    for (const upstream of UPSTREAMS) {
      expect(recorded[upstream].length, `the frontend called ${upstream}`).toBeGreaterThan(0);
      const refused = recorded[upstream].filter(({ method, path }) => !isAllowed(objects, 'frontend', upstream, method, path));
      expect(refused, `${upstream} calls the policies would refuse`).toEqual([]);
    }
    // The health check's own calls are among them.
    expect(recorded.catalog).toContainEqual({ method: 'GET', path: '/health/live' });
  });
});
