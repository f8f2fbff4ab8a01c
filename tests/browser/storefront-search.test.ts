import type { Page, Route } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStorefrontStack, type StorefrontStack } from './storefront-stack.js';

const UI_TIMEOUT_MS = 8_000;

/**
 * The storefront's search box in a real Chromium against the real services (search on
 * PostgreSQL): typing narrows the list that replaces the catalogue, a slow answer for
 * an earlier prefix never overwrites a later one, emptying the box brings the catalogue
 * back, and all of it works from the keyboard.
 */
describe('storefront search as you type', () => {
  let stack: StorefrontStack;
  let page: Page;
  const problems: string[] = [];

  const resultNames = () => page.locator('#search-list .product h3').allTextContents();
  const status = () => page.locator('#search-status').textContent();
  const catalogueShown = () => page.locator('#catalogue').isVisible();
  const resultsShown = () => page.locator('#search-results').isVisible();
  // The page's own globals, typed for this Node-side file (no DOM lib here).
  type PageGlobals = { document: { activeElement: { textContent: string | null; getAttribute: (n: string) => string | null } | null } };
  const searchBoxFocused = () => page.locator('#search-q').evaluate((e) => e === (globalThis as unknown as PageGlobals).document.activeElement);

  beforeAll(async () => {
    stack = await startStorefrontStack();
    page = await stack.browser.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
    });
    page.on('pageerror', (err) => problems.push(err.message));
  });

  afterAll(async () => {
    await stack?.close();
  });

  beforeEach(async () => {
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    await page.goto(stack.url);
    await page.locator('#catalogue .product').first().waitFor();
  });

  it('narrows the list as a word is typed, replacing the catalogue, and says how many matched', async () => {
    expect(await resultsShown()).toBe(false);
    await page.locator('#search-q').pressSequentially('la', { delay: 40 });
    await expect.poll(status).toBe('3 products match “la”.');
    expect(await resultNames()).toEqual(['Laptop Pro 14', 'Laptop Sleeve', 'Bluetooth Speaker']);
    expect(await catalogueShown()).toBe(false);

    await page.locator('#search-q').pressSequentially('ptop sl', { delay: 40 });
    await expect.poll(status).toBe('1 product matches “laptop sl”.');
    expect(await resultNames()).toEqual(['Laptop Sleeve']);

    await page.locator('#search-q').pressSequentially('zz');
    await expect.poll(status).toBe('No products match “laptop slzz”.');
    expect(await resultNames()).toEqual([]);
  });

  it('never lets a slow answer for "la" overwrite the answer for "lap"', async () => {
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let seen: () => void = () => {};
    const laSent = new Promise<void>((resolve) => (seen = resolve));
    let delivered: Promise<unknown> = Promise.resolve();
    await page.route(
      (url) => url.pathname === '/api/search' && url.searchParams.get('q') === 'la',
      async (route: Route) => {
        seen();
        await released;
        // The browser may have aborted it already; then there is nothing to deliver.
        delivered = route
          .fetch()
          .then((response) => route.fulfill({ response }))
          .catch(() => undefined);
        await delivered;
      },
    );
    const input = page.locator('#search-q');
    await input.pressSequentially('la');
    await laSent;
    await input.press('p');
    await expect.poll(status).toBe('2 products match “lap”.');

    release();
    await delivered;
    // Give the page the time to handle the late answer, then check it was ignored.
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 300)));
    expect(await status()).toBe('2 products match “lap”.');
    expect(await resultNames()).toEqual(['Laptop Pro 14', 'Laptop Sleeve']);
  });

  it('brings the catalogue back when the box is emptied, by deleting or with Escape', async () => {
    const input = page.locator('#search-q');
    const catalogue = await page.locator('#catalogue .product h3').allTextContents();
    await input.pressSequentially('mouse');
    await expect.poll(resultNames).toEqual(['Wireless Mouse']);

    for (let i = 0; i < 'mouse'.length; i++) await input.press('Backspace');
    await expect.poll(catalogueShown).toBe(true);
    expect(await resultsShown()).toBe(false);
    expect(await page.locator('#catalogue .product h3').allTextContents()).toEqual(catalogue);

    await input.pressSequentially('desk');
    await expect.poll(resultNames).toEqual(['Standing Desk']);
    await input.press('Escape');
    await expect.poll(catalogueShown).toBe(true);
    expect(await input.inputValue()).toBe('');
    expect(await resultsShown()).toBe(false);
  });

  it('works from the keyboard alone: Tab to the box, type, Enter, Tab to a result and order it', async () => {
    await page.locator('body').focus();
    for (let i = 0; i < 5 && !(await searchBoxFocused()); i++) {
      await page.keyboard.press('Tab');
    }
    expect(await searchBoxFocused()).toBe(true);
    await page.keyboard.type('sleeve');
    await page.keyboard.press('Enter');
    await expect.poll(resultNames).toEqual(['Laptop Sleeve']);
    // The search button, then the result's "Order this".
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).document.activeElement?.textContent)).toBe('Order this');
    await page.keyboard.press('Enter');
    expect(await page.locator('#order-form select[name="productId"]').inputValue()).toBe('13');
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).document.activeElement?.getAttribute('name'))).toBe('email');
  });

  it('logged no script errors', () => {
    expect(problems).toEqual([]);
  });
});
