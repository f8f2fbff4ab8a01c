import { runService } from '../common/main-runner.js';
import { handleShutdown } from '../common/server.js';
import { searchConfigSchema, startSearchService } from './service.js';

await runService('search', searchConfigSchema, async (config, logger) => {
  const service = await startSearchService(config, logger);
  handleShutdown({ logger, graceMs: config.SHUTDOWN_GRACE_MS, steps: [service.close] });
});
