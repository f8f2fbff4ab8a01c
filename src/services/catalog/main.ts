import { runService } from '../common/main-runner.js';
import { handleShutdown } from '../common/server.js';
import { catalogConfigSchema, startCatalogService } from './service.js';

await runService('catalog', catalogConfigSchema, async (config, logger) => {
  const service = await startCatalogService(config, logger);
  handleShutdown({ logger, graceMs: config.SHUTDOWN_GRACE_MS, steps: [service.close] });
});
