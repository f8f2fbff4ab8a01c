/** The real catalog service, as `node dist/services/catalog/main.js` would run it, minus the env parsing. */
import { createLogger } from '../../src/services/common/logger.js';
import { startCatalogService } from '../../src/services/catalog/service.js';
import { catalogConfigSchema } from '../../src/services/catalog/service.js';

const config = catalogConfigSchema.parse({ ...process.env, PORT: '0', LOG_LEVEL: 'info' });
const service = await startCatalogService(config, createLogger('catalog', 'warn'));
process.send!({ port: service.port });
process.on('SIGTERM', () => void service.close().then(() => process.exit(0)));
