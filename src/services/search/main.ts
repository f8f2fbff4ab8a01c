import { runService } from '../common/main-runner.js';
import { searchConfigSchema, startSearchService } from './service.js';

await runService('search', searchConfigSchema, startSearchService);
