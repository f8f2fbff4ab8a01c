/**
 * The real frontend service (HTTP, order consumer, live feed), as `node
 * dist/services/frontend/main.js` would run it, minus the env parsing. The bench passes
 * DATABASE_URL, AMQP_URL, ORDERS_QUEUE and the upstream URLs.
 */
import { createLogger } from '../../src/services/common/logger.js';
import { frontendConfigSchema, startFrontendService } from '../../src/services/frontend/service.js';

const config = frontendConfigSchema.parse({ ...process.env, PORT: '0', LOG_LEVEL: 'warn' });
const service = await startFrontendService(config, createLogger('frontend', 'warn'));
process.send!({ port: service.port });
process.on('SIGTERM', () => void service.close().then(() => process.exit(0)));
