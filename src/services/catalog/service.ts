import { z } from 'zod';
import { baseConfigSchema, postgresUrl } from '../common/config.js';
import { prepareDatabase } from '../common/db/migrate.js';
import { createPool } from '../common/db/pool.js';
import type { Logger } from '../common/logger.js';
import { serve, type RunningService } from '../common/server.js';
import { createCatalogApp } from './app.js';
import { listenForCatalogChanges } from '../common/db/change-listener.js';
import { PageCache } from './page-cache.js';

export const catalogConfigSchema = baseConfigSchema.extend({
  DATABASE_URL: postgresUrl,
  PORT: baseConfigSchema.shape.PORT.default(5001),
});
export type CatalogConfig = z.infer<typeof catalogConfigSchema>;

export async function startCatalogService(config: CatalogConfig, logger: Logger): Promise<RunningService> {
  const pool = createPool(config.DATABASE_URL);
  await prepareDatabase(pool);
  const cache = new PageCache();
  const listener = listenForCatalogChanges(
    config.DATABASE_URL,
    logger,
    () => cache.invalidate(),
    (listening) => cache.setEnabled(listening),
  );
  const { app } = createCatalogApp({ pool, logger, cache });
  const service = await serve(app, config.PORT, config.HOST, async () => {
    await listener.close();
    await pool.end();
  });
  logger.info({ port: service.port }, 'catalog listening');
  return service;
}
