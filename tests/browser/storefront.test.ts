import { existsSync } from 'node:fs';
import type { ChannelModel } from 'amqplib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogConfigSchema, startCatalogService } from '../../src/services/catalog/service.js';
import type { OrderQueues } from '../../src/services/common/amqp.js';
import { parseConfig } from '../../src/services/common/config.js';
import type { RunningService } from '../../src/services/common/server.js';
import { frontendConfigSchema, startFrontendService } from '../../src/services/frontend/service.js';
import { orderConfigSchema, startOrderService } from '../../src/services/order/service.js';
import { searchConfigSchema, startSearchService } from '../../src/services/search/service.js';
import { connectTestBroker, deleteQueues, testAmqpUrl, uniqueQueues } from '../helpers/broker.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { memoryLogger } from '../helpers/services.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const HOSTILE_NAME = '<img src=x onerror="window.__xss=1">';
const UI_TIMEOUT_MS = 8_000;
const MISSING_CHROMIUM = `Chromium not found at ${CHROMIUM}: apt-get install -y chromium`;

// Its own test, so a machine without Chromium shows a failed test, not only skipped ones.
it('finds Chromium at /usr/bin/chromium', () => {
  if (!existsSync(CHROMIUM)) throw new Error(MISSING_CHROMIUM);
});

/**
 * The four real services on one database and one broker queue, and the page in a real
 * Chromium: products rendered, search, an order refused and one accepted, and that order
 * arriving in the live feed through outbox → RabbitMQ → consumer → server-sent events.
 */
describe('storefront in a browser', () => {
  let db: TestDatabase;
  let broker: ChannelModel;
  let queues: OrderQueues;
  let browser: Browser;
  let page: Page;
  const services: RunningService[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(MISSING_CHROMIUM);
    db = await createTestDatabase();
    await db.pool.query("INSERT INTO products (name, description, price_cents, category) VALUES ($1, 'hostile', 100, 'test')", [HOSTILE_NAME]);
    broker = await connectTestBroker();
    queues = uniqueQueues();
    const common = { PORT: '0', DATABASE_URL: db.url, LOG_LEVEL: 'silent' };
    const broked = { ...common, AMQP_URL: testAmqpUrl(), ORDERS_QUEUE: queues.orders };
    const [catalog, search, order] = await Promise.all([
      startCatalogService(parseConfig(catalogConfigSchema, common), memoryLogger('catalog')),
      startSearchService(parseConfig(searchConfigSchema, { ...common, SEARCH_BACKEND: 'postgres' }), memoryLogger('search')),
      startOrderService(parseConfig(orderConfigSchema, { ...broked, RELAY_POLL_MS: '200' }), memoryLogger('order')),
    ]);
    services.push(catalog, search, order);
    const url = (s: RunningService) => `http://127.0.0.1:${s.port}`;
    const frontend = await startFrontendService(
      parseConfig(frontendConfigSchema, { ...broked, CATALOG_URL: url(catalog), SEARCH_URL: url(search), ORDER_URL: url(order) }),
      memoryLogger('frontend'),
    );
    services.push(frontend);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 15_000 });
    page = await browser.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    // A CSP violation, a script error or a failed request shows up here; the page must
    // have none but the 400 the bad e-mail test asks for.
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
    });
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('response', (r) => {
      const expected = r.status() === 400 && new URL(r.url()).pathname === '/api/orders';
      if (r.status() >= 400 && !expected) problems.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(url(frontend));
  });

  afterAll(async () => {
    await browser?.close();
    for (const s of services.reverse()) await s.close();
    if (broker) {
      await deleteQueues(broker, queues);
      await broker.close();
    }
    await db?.drop();
  });

  it('shows the catalogue, with a hostile product name as plain text', async () => {
    await expect.poll(() => page.locator('#products .product h3').allTextContents()).toEqual(
      expect.arrayContaining(['Laptop Pro 14', 'Wireless Mouse', HOSTILE_NAME]),
    );
    expect(await page.evaluate(() => (globalThis as { __xss?: number }).__xss)).toBeUndefined();
    await page.locator('#feed-state', { hasText: 'live' }).waitFor();
  });

  it('searches as the user types', async () => {
    await page.locator('#search-q').fill('lap');
    const first = page.locator('#search-list .product h3').first();
    await first.waitFor();
    expect(await page.locator('#search-list .product h3').allTextContents()).toContain('Laptop Pro 14');
    expect(await page.locator('#search-status').textContent()).toMatch(/products? match(es)? “lap”/);
  });

  it("shows the order service's error for a bad e-mail address", async () => {
    const form = page.locator('#order-form');
    await form.locator('input[name="email"]').fill('not-an-email');
    await form.locator('input[name="name"]').fill('Ada Lovelace');
    await form.locator('select[name="productId"]').selectOption('1');
    await form.locator('input[name="quantity"]').fill('2');
    await form.locator('button[type="submit"]').click();
    const result = page.locator('#order-result.error');
    await result.waitFor();
    expect(await result.textContent()).toContain('customer.email: must be a valid email address');
    expect(await form.locator('input[name="email"]').getAttribute('aria-invalid')).toBe('true');
  });

  it('places an order and sees it arrive in the live feed', async () => {
    const form = page.locator('#order-form');
    await form.locator('input[name="email"]').fill('ada@example.com');
    await form.locator('button[type="submit"]').click();
    const result = page.locator('#order-result.ok');
    await result.waitFor();
    const orderId = await result.getAttribute('data-order-id');
    expect(orderId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await result.textContent()).toContain('2 × Laptop Pro 14');
    const item = page.locator(`#feed li[data-message-id="${orderId}"]`);
    await item.waitFor({ timeout: 10_000 });
    expect(await item.textContent()).toContain('Ada Lovelace ordered 2 × Laptop Pro 14');
    expect(await item.textContent()).not.toContain('ada@example.com');
  });

  it('logged no script errors, CSP violations or failed requests', () => {
    expect(problems).toEqual([]);
  });
});
