/** The real search service (PostgreSQL backend), as `node dist/services/search/main.js` would run it, minus the env parsing. */
import { createLogger } from '../src/services/common/logger.js';
import { searchConfigSchema, startSearchService } from '../src/services/search/service.js';

const config = searchConfigSchema.parse({ ...process.env, PORT: '0', LOG_LEVEL: 'info', SEARCH_BACKEND: 'postgres' });
const service = await startSearchService(config, createLogger('search', 'warn'));
process.send!({ port: service.port });
process.on('SIGTERM', () => void service.close().then(() => process.exit(0)));
