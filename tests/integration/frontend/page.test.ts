import type { Express } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFrontendApp } from '../../../src/services/frontend/app.js';
import { OrderFeed } from '../../../src/services/frontend/feed.js';
import { Gateway } from '../../../src/services/frontend/gateway.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { memoryLogger } from '../../helpers/services.js';
import { closedPort, startCatalogUpstream } from './helpers.js';

const MALICIOUS_NAME = '<script>alert(1)</script>';
const MALICIOUS_DESCRIPTION = '" onmouseover="alert(2)';

describe('storefront page', () => {
  let db: TestDatabase;
  let catalog: Awaited<ReturnType<typeof startCatalogUpstream>>;
  let app: Express;
  const feed = new OrderFeed();

  const frontendWith = (catalogUrl: string) =>
    createFrontendApp({
      pool: db.pool,
      logger: memoryLogger('frontend'),
      feed,
      gateway: new Gateway({ upstreams: { catalog: catalogUrl, search: catalogUrl, order: catalogUrl }, timeoutMs: 2_000 }),
    }).app;

  beforeAll(async () => {
    db = await createTestDatabase();
    await db.pool.query("INSERT INTO products (name, description, price_cents, category) VALUES ($1, $2, 1999, 'evil')", [
      MALICIOUS_NAME,
      MALICIOUS_DESCRIPTION,
    ]);
    catalog = await startCatalogUpstream(db.pool);
    app = frontendWith(catalog.url);
  });
  afterAll(async () => {
    feed.close();
    await catalog?.close();
    await db?.drop();
  });

  it('renders the first catalogue page into the HTML', async () => {
    const res = await request(app).get('/').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    for (const name of ['Laptop Pro 14', 'Wireless Mouse', 'Standing Desk']) expect(res.text).toContain(name);
    expect(res.text).toContain('<option value="1">Laptop Pro 14 ($1,299.00)</option>');
    expect(res.text).toContain('<span class="price">$1,299.00</span>');
    expect(res.text).toContain('<body data-currency="USD">');
    expect(res.text).toMatch(/<form id="order-form"/);
    expect(res.text).toMatch(/<input id="search-q"/);
    expect(res.text).toMatch(/<ol id="feed"/);
    expect(res.text).not.toContain('{{');
  });

  it('shows a malicious product name as text, never as markup', async () => {
    const res = await request(app).get('/').expect(200);
    expect(res.text).toContain('<h3>&lt;script&gt;alert(1)&lt;/script&gt;</h3>');
    expect(res.text).toContain('&quot; onmouseover=&quot;alert(2)');
    expect(res.text).not.toContain(MALICIOUS_NAME);
    expect(res.text).not.toContain(MALICIOUS_DESCRIPTION);
    // The only script is our own file.
    expect(res.text.match(/<script\b[^>]*>/g)).toEqual(['<script src="/assets/app.js" defer>']);
  });

  it('sends a Content-Security-Policy that allows no inline script', async () => {
    const res = await request(app).get('/').expect(200);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('still renders the page, with a visible notice, when the catalog is down', async () => {
    const port = await closedPort();
    const res = await request(frontendWith(`http://127.0.0.1:${port}`)).get('/').expect(200);
    expect(res.text).toContain('class="notice" role="alert"');
    expect(res.text).toContain('The product catalogue is unavailable right now (catalog service is unavailable (ECONNREFUSED))');
    expect(res.text).toMatch(/<form id="order-form"/);
  });

  it('answers the assets directory itself with 404 JSON, not a redirect page', async () => {
    const res = await request(app).get('/assets').expect(404);
    expect(res.body.error.code).toBe('not_found');
  });

  it('serves the script and the stylesheet, but not the raw template', async () => {
    const js = await request(app).get('/assets/app.js').expect(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(js.text).toContain("new EventSource('/api/orders/stream')");
    const css = await request(app).get('/assets/style.css').expect(200);
    expect(css.headers['content-type']).toMatch(/^text\/css/);
    const raw = await request(app).get('/assets/index.html').expect(404);
    expect(raw.body.error.code).toBe('not_found');
    await request(app).get('/assets/nope.js').expect(404);
  });
});
