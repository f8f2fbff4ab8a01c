import { existsSync } from 'node:fs';
import type { ChannelModel } from 'amqplib';
import { chromium, type Browser } from 'playwright-core';
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

export const CHROMIUM = '/usr/bin/chromium';
export const MISSING_CHROMIUM = `Chromium not found at ${CHROMIUM}: apt-get install -y chromium`;
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

export interface StorefrontStack {
  /** The frontend's base URL (the storefront page is at `/`). */
  url: string;
  db: TestDatabase;
  browser: Browser;
  close: () => Promise<void>;
}

/**
 * The four real services on one test database and one private broker queue, and a real
 * Chromium: everything a storefront page needs, torn down by close().
 */
export async function startStorefrontStack(): Promise<StorefrontStack> {
  if (!existsSync(CHROMIUM)) throw new Error(MISSING_CHROMIUM);
  const services: RunningService[] = [];
  let broker: ChannelModel | undefined;
  let queues: OrderQueues | undefined;
  let browser: Browser | undefined;
  const db = await createTestDatabase();
  const close = async () => {
    await browser?.close();
    for (const s of services.reverse()) await s.close();
    if (broker) {
      if (queues) await deleteQueues(broker, queues);
      await broker.close();
    }
    await db.drop();
  };
  try {
    broker = await connectTestBroker();
    queues = uniqueQueues();
    const common = { PORT: '0', DATABASE_URL: db.url, LOG_LEVEL: 'silent' };
    const broked = { ...common, AMQP_URL: testAmqpUrl(), ORDERS_QUEUE: queues.orders };
    const started = await Promise.all([
      startCatalogService(parseConfig(catalogConfigSchema, common), memoryLogger('catalog')),
      startSearchService(parseConfig(searchConfigSchema, { ...common, SEARCH_BACKEND: 'postgres' }), memoryLogger('search')),
      startOrderService(parseConfig(orderConfigSchema, { ...broked, RELAY_POLL_MS: '200' }), memoryLogger('order')),
    ]);
    services.push(...started);
    const url = (s: RunningService) => `http://127.0.0.1:${s.port}`;
    const [catalog, search, order] = started.map(url);
    const frontend = await startFrontendService(
      parseConfig(frontendConfigSchema, { ...broked, CATALOG_URL: catalog!, SEARCH_URL: search!, ORDER_URL: order! }),
      memoryLogger('frontend'),
    );
    services.push(frontend);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 15_000 });
    return { url: url(frontend), db, browser, close };
  } catch (err) {
    await close();
    throw err;
  }
}
