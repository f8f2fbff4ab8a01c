import { runService } from '../common/main-runner.js';
import { handleShutdown } from '../common/server.js';
import { orderConfigSchema, startOrderService } from './service.js';

await runService('order', orderConfigSchema, async (config, logger) => {
  const service = await startOrderService(config, logger);
  handleShutdown({ logger, graceMs: config.SHUTDOWN_GRACE_MS, steps: [service.close] });
});
