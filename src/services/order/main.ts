import { runService } from '../common/main-runner.js';
import { orderConfigSchema, startOrderService } from './service.js';

await runService('order', orderConfigSchema, startOrderService);
