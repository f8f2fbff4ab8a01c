/**
 * The storefront on a phone (390 x 844 CSS pixels, touch, the page's own viewport meta):
 * the header fits and works, nothing scrolls sideways, and every price on the page -
 * server-rendered, in the order form, in the order result and in the live feed - shows
 * its currency. Screenshots are kept in test-results/storefront-phone*.png.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, MISSING_CHROMIUM, startStorefrontStack, type StorefrontStack } from './storefront-stack.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCREENSHOT = join(ROOT, 'test-results', 'storefront-phone.png');
const SCREENSHOT_ORDER = join(ROOT, 'test-results', 'storefront-phone-order.png');
const PHONE = { width: 390, height: 844 };
const UI_TIMEOUT_MS = 8_000;
/** A dollar amount as en-US prints it with its currency: $1,299.00. */
const DOLLARS = /^\$\d{1,3}(,\d{3})*\.\d{2}$/;

// Its own test, so a machine without Chromium shows a failed test, not only skipped ones.
it('finds Chromium at /usr/bin/chromium', () => {
  if (!existsSync(CHROMIUM)) throw new Error(MISSING_CHROMIUM);
});

describe('storefront at a phone width (390 px) in Chromium', () => {
  let stack: StorefrontStack;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    stack = await startStorefrontStack();
    context = await stack.browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(stack.url);
    await page.locator('#feed-state', { hasText: 'live' }).waitFor();
  });

  afterAll(async () => {
    await context?.close();
    await stack?.close();
  });

  const horizontalOverflow = () =>
    page.evaluate(() => {
      const root = (globalThis as unknown as BrowserGlobals).document.scrollingElement;
      return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth };
    });

  it('lays the page out without sideways scrolling', async () => {
    const { scrollWidth, clientWidth } = await horizontalOverflow();
    expect(clientWidth).toBe(PHONE.width);
    expect(scrollWidth).toBeLessThanOrEqual(PHONE.width);
  });

  it('keeps every panel inside the screen with even gutters (nothing pushed past the right edge)', async () => {
    const panels = await page.locator('.panel').all();
    expect(panels.length).toBeGreaterThanOrEqual(3);
    for (const panel of panels) {
      if (!(await panel.isVisible())) continue;
      const box = (await panel.boundingBox())!;
      expect(box.x).toBeGreaterThan(0);
      // The right gutter is at least the left one: a panel wider than its column shows here
      // even when the page itself does not scroll.
      expect(PHONE.width - (box.x + box.width)).toBeGreaterThanOrEqual(box.x - 1);
    }
  });

  it('shows the whole header inside the screen: brand, search box and button side by side, none cut or covered', async () => {
    const brand = await boxOf(page.locator('header .brand'));
    const input = await boxOf(page.locator('header #search-q'));
    const button = await boxOf(page.locator('header #search-form button[type="submit"]'));
    for (const box of [brand, input, button]) {
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width);
      expect(box.y).toBeGreaterThanOrEqual(0);
    }
    // In reading order and not overlapping: each starts where the one before it ends.
    expect(brand.x + brand.width).toBeLessThanOrEqual(input.x);
    expect(input.x + input.width).toBeLessThanOrEqual(button.x);
    // Room to read what one types (about ten characters), and a button a thumb can hit.
    expect(input.width).toBeGreaterThanOrEqual(140);
    expect(button.height).toBeGreaterThanOrEqual(32);
    // The button's label is not clipped.
    const clipped = await page.locator('header #search-form button[type="submit"]').evaluate((b) => b.scrollWidth > b.clientWidth);
    expect(clipped).toBe(false);
  });

  it('keeps the header usable: a tap focuses the search box and typing searches, results priced with their currency', async () => {
    await page.locator('#search-q').tap();
    expect(await page.evaluate(() => (globalThis as unknown as BrowserGlobals).document.activeElement?.id)).toBe('search-q');
    await page.keyboard.type('lap');
    await page.locator('#search-form button[type="submit"]').tap();
    await expect.poll(() => page.locator('#search-results').textContent()).toContain('Laptop Pro 14');
    // Result cards are drawn by the browser script: their prices carry the currency too.
    const resultPrices = await page.locator('#search-list .product .price').allTextContents();
    expect(resultPrices.length).toBeGreaterThan(0);
    for (const price of resultPrices) expect(price).toMatch(DOLLARS);
    expect(await page.locator('#search-list .product[data-product-id="1"] .price').textContent()).toBe('$1,299.00');
    await page.locator('#search-q').fill('');
    await page.locator('#search-q').dispatchEvent('input');
    const { scrollWidth } = await horizontalOverflow();
    expect(scrollWidth).toBeLessThanOrEqual(PHONE.width);
  });

  it('shows every catalogue price with its currency, in the product list and the order form', async () => {
    const prices = await page.locator('#products .product .price').allTextContents();
    expect(prices.length).toBeGreaterThan(3);
    for (const price of prices) expect(price).toMatch(DOLLARS);
    expect(await page.locator('#products .product[data-product-id="1"] .price').textContent()).toBe('$1,299.00');
    const options = await page.locator('#order-form select[name="productId"] option').allTextContents();
    expect(options).toContain('Laptop Pro 14 ($1,299.00)');
    for (const option of options) expect(option).toMatch(/ \(\$\d{1,3}(,\d{3})*\.\d{2}\)$/);
  });

  it('shows the order total and the live feed entry with their currency', async () => {
    const form = page.locator('#order-form');
    await form.locator('input[name="email"]').fill('ada@example.com');
    await form.locator('input[name="name"]').fill('Ada Lovelace');
    await form.locator('select[name="productId"]').selectOption('1');
    await form.locator('input[name="quantity"]').fill('2');
    await form.locator('button[type="submit"]').tap();
    const result = page.locator('#order-result.ok');
    await result.waitFor();
    expect(await result.textContent()).toContain('2 × Laptop Pro 14 — total $2,598.00');
    const orderId = await result.getAttribute('data-order-id');
    const item = page.locator(`#feed li[data-message-id="${orderId}"]`);
    await item.waitFor({ timeout: 10_000 });
    expect(await item.locator('.price').textContent()).toBe('$2,598.00');
    // The feed entry fits the narrow column too.
    const box = await boxOf(item);
    expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width);
    const { scrollWidth } = await horizontalOverflow();
    expect(scrollWidth).toBeLessThanOrEqual(PHONE.width);
  });

  it('saves screenshots (the first screen, and the order form with the live feed) as test artifacts', async () => {
    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    await page.evaluate(() => (globalThis as unknown as BrowserGlobals).scrollTo(0, 0));
    await page.screenshot({ path: SCREENSHOT });
    await page.locator('aside.side').screenshot({ path: SCREENSHOT_ORDER });
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect(existsSync(SCREENSHOT_ORDER)).toBe(true);
  });

  it('logged no script errors, CSP violations or failed requests', () => {
    expect(problems).toEqual([]);
  });
});

/** The few page globals the checks read inside Chromium (the tests compile without the DOM library). */
interface BrowserGlobals {
  document: { scrollingElement: { scrollWidth: number; clientWidth: number }; activeElement: { id: string } | null };
  scrollTo: (x: number, y: number) => void;
}

async function boxOf(locator: Locator) {
  await locator.waitFor({ state: 'visible' });
  const box = await locator.boundingBox();
  if (!box) throw new Error(`${String(locator)} has no box on screen`);
  return box;
}
