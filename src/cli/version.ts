import { createRequire } from 'node:module';

/** Read from package.json at runtime so a release bump needs one edit. */
export const VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
