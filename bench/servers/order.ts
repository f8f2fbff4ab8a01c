/**
 * The real order service (HTTP, batcher, outbox relay, broker publisher), as
 * `node dist/services/order/main.js` would run it, minus the env parsing. The bench
 * passes DATABASE_URL, AMQP_URL and its own ORDERS_QUEUE.
 */
import { createLogger } from '../../src/services/common/logger.js';
import { orderConfigSchema, startOrderService } from '../../src/services/order/service.js';

const config = orderConfigSchema.parse({ ...process.env, PORT: '0', LOG_LEVEL: 'warn' });
const service = await startOrderService(config, createLogger('order', 'warn'));
process.send!({ port: service.port });
process.on('SIGTERM', () => void service.close().then(() => process.exit(0)));
