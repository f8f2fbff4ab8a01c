import { runService } from '../common/main-runner.js';
import { handleShutdown } from '../common/server.js';
import { frontendConfigSchema, startFrontendService } from './service.js';

await runService('frontend', frontendConfigSchema, async (config, logger) => {
  const service = await startFrontendService(config, logger);
  handleShutdown({ logger, graceMs: config.SHUTDOWN_GRACE_MS, steps: [service.close] });
});
