import { runService } from '../common/main-runner.js';
import { frontendConfigSchema, startFrontendService } from './service.js';

await runService('frontend', frontendConfigSchema, startFrontendService);
