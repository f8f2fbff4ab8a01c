import { runService } from '../common/main-runner.js';
import { catalogConfigSchema, startCatalogService } from './service.js';

await runService('catalog', catalogConfigSchema, startCatalogService);
