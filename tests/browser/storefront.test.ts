import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, MISSING_CHROMIUM, startStorefrontStack, type StorefrontStack } from './storefront-stack.js';

const HOSTILE_NAME = '<img src=x onerror="window.__xss=1">';
const UI_TIMEOUT_MS = 8_000;

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
  let stack: StorefrontStack;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    stack = await startStorefrontStack();
    await stack.db.pool.query("INSERT INTO products (name, description, price_cents, category) VALUES ($1, 'hostile', 100, 'test')", [HOSTILE_NAME]);
    page = await stack.browser.newPage();
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
    await page.goto(stack.url);
  });

  afterAll(async () => {
    await stack?.close();
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
