/**
 * The console in a real Chromium against the real system: `ecom up` of the built CLI on
 * the local runtime (own ECOM_HOME, free port offset, its real Prometheus), the page the
 * supervisor serves. It loads with no script error, CSP violation or failed request;
 * shows a hostile log line as text; its charts (the dashboards' queries) have data
 * after smoke traffic and orders; a service stopped with SIGSTOP shows as down within
 * seconds and as up again after SIGCONT; a screenshot is kept in test-results/.
 */
import { appendFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleCharts } from '../../src/console/charts.js';
import type { SystemStatus } from '../../src/runtime/types.js';
import { CONSOLE_BASE_PORT } from '../../src/core/system.js';
import { ecom, ensureBuilt, freeOffset, newHome, parseJson, pidOf, portIsFree, ROOT } from '../e2e/helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const MISSING_CHROMIUM = `Chromium not found at ${CHROMIUM}: apt-get install -y chromium`;
const UP_TIMEOUT_MS = 150_000;
/** The page polls the status every 2 s and a stopped process fails its 1 s health probe. */
const DOWN_WITHIN_MS = 10_000;
/** Charts refresh every 10 s; recording rules and rate() need a few scrapes first. */
const CHART_DATA_TIMEOUT_MS = 90_000;
const SCREENSHOT = join(ROOT, 'test-results', 'console.png');
const HOSTILE = '<img src=x onerror="window.__xss=1">';

interface UpJson {
  endpoints: { services: Record<string, string>; prometheus?: string; console?: string };
}

it('finds Chromium at /usr/bin/chromium', () => {
  if (!existsSync(CHROMIUM)) throw new Error(MISSING_CHROMIUM);
});

describe('the console of a running local system, in Chromium', () => {
  let home: string;
  let consoleUrl: string;
  let frontend: string;
  /** 5005 + offset, when it was free before up (else the console moves to a free port). */
  let plannedPort: number | undefined;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(MISSING_CHROMIUM);
    ensureBuilt();
    home = newHome();
    const offset = await freeOffset();
    if (await portIsFree(CONSOLE_BASE_PORT + offset)) plannedPort = CONSOLE_BASE_PORT + offset;
    const run = await ecom(home, ['up', '--port-offset', String(offset), '--timeout', '120s', '--json'], UP_TIMEOUT_MS);
    if (run.code !== 0) throw new Error(`ecom up failed (exit ${run.code}):\n${run.stderr}`);
    const up = parseJson<UpJson>(run);
    if (!up.endpoints.prometheus) throw new Error('Prometheus is not running: the local runtime needs it installed (apt-get install -y prometheus)');
    if (!up.endpoints.console) throw new Error(`ecom up names no console URL:\n${run.stdout}`);
    consoleUrl = up.endpoints.console;
    frontend = up.endpoints.services.frontend!;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 15_000 });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(consoleUrl);
  }, UP_TIMEOUT_MS + 30_000);

  afterAll(async () => {
    await browser?.close();
    if (!home) return;
    await ecom(home, ['down', '--purge'], 90_000);
    rmSync(home, { recursive: true, force: true });
  }, 120_000);

  it('loads on 127.0.0.1 at 5005 + the offset and shows every service up, the alerts and the live log tail', async () => {
    expect(new URL(consoleUrl).hostname).toBe('127.0.0.1');
    if (plannedPort) expect(Number(new URL(consoleUrl).port)).toBe(plannedPort);
    await expect.poll(() => page.locator('#services tbody tr').evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-service')} ${r.getAttribute('data-condition')}`)), { timeout: 10_000 }).toEqual([
      'catalog up',
      'search up',
      'order up',
      'frontend up',
    ]);
    await expect.poll(() => page.locator('#alerts-summary').textContent()).toMatch(/^(none firing|\d+ firing)$/);
    await expect.poll(() => page.locator('#logs-state').textContent()).toBe('live');
    await expect.poll(() => page.locator('#logs li').count()).toBeGreaterThan(0);
    expect(await page.locator('#links a').allTextContents()).toEqual(expect.arrayContaining(['shop', 'prometheus']));
  });

  it('shows the same status as ecom status --json, metrics and alerts included', async () => {
    const cli = parseJson<SystemStatus>(await ecom(home, ['status', '--json']));
    const served = (await (await fetch(`${consoleUrl}/api/status`)).json()) as SystemStatus;
    const shape = (s: SystemStatus) => ({
      runtime: s.runtime,
      services: s.services.map((x) => [x.name, x.state, x.health, x.url, x.metrics?.source]),
      alerts: Array.isArray(s.alerts),
      endpoints: s.endpoints,
    });
    expect(shape(served)).toEqual(shape(cli));
    expect(cli.services.every((s) => s.metrics?.source === 'prometheus')).toBe(true);
  });

  it('shows a hostile log line as text', async () => {
    appendFileSync(join(home, 'logs', 'catalog.log'), `${JSON.stringify({ level: 'info', time: new Date().toISOString(), msg: HOSTILE })}\n`);
    await expect.poll(() => page.locator('#logs').textContent(), { timeout: 10_000 }).toContain(HOSTILE);
    expect(await page.locator('#logs img').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __xss?: number }).__xss)).toBeUndefined();
  });

  it('draws every chart with data after smoke traffic and some orders', async () => {
    const smoke = await ecom(home, ['smoke', '--json'], 120_000);
    expect(smoke.code, `${smoke.stdout}\n${smoke.stderr}`).toBe(0);
    await placeOrders(frontend, 3);
    const charts = consoleCharts();
    const empty = async () =>
      page.locator('[data-chart]').evaluateAll((cards) => cards.filter((c) => Number(c.getAttribute('data-points')) === 0).map((c) => c.getAttribute('data-chart')));
    await expect.poll(() => page.locator('[data-chart]').count()).toBe(charts.length);
    await expect.poll(empty, { timeout: CHART_DATA_TIMEOUT_MS, interval: 2_000 }).toEqual([]);
    // One line per service once each has a recorded rate (order and frontend start last).
    const requests = page.locator(`[data-chart="${charts.find((c) => c.title === 'Requests per second by service')!.id}"]`);
    await expect.poll(() => requests.getAttribute('data-series'), { timeout: CHART_DATA_TIMEOUT_MS, interval: 2_000 }).toBe('4');
    expect(await requests.locator('canvas').count()).toBeGreaterThan(0);
  }, CHART_DATA_TIMEOUT_MS + 150_000);

  it('shows a stopped service as down within seconds, and up again when it continues', async () => {
    const status = parseJson<SystemStatus>(await ecom(home, ['status', '--json']));
    const pid = pidOf(status.services.find((s) => s.name === 'search')!);
    if (!pid) throw new Error('status names no pid for search');
    const row = page.locator('#services tr[data-service="search"]');
    const stoppedAt = Date.now();
    process.kill(pid, 'SIGSTOP');
    try {
      await expect.poll(() => row.getAttribute('data-condition'), { timeout: DOWN_WITHIN_MS, interval: 250 }).toBe('down');
      expect(Date.now() - stoppedAt).toBeLessThan(DOWN_WITHIN_MS);
      expect(await row.locator('.badge').textContent()).toBe('down');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await expect.poll(() => row.getAttribute('data-condition'), { timeout: DOWN_WITHIN_MS }).toBe('up');
  }, 30_000);

  it('saves a screenshot as a test artifact', async () => {
    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
  });

  it('logged no script error, CSP violation or failed request', () => {
    expect(problems).toEqual([]);
  });
});

async function placeOrders(frontend: string, count: number): Promise<void> {
  const catalog = (await (await fetch(`${frontend}/api/catalog`)).json()) as { items: Array<{ id: number }> };
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${frontend}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customer: { email: `console+${i}@example.com`, name: 'Console' }, items: [{ productId: catalog.items[0]!.id, quantity: 1 }] }),
    });
    expect(res.status, await res.text()).toBeLessThan(300);
  }
}
