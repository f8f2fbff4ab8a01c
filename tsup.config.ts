import { defineConfig } from 'tsup';

/**
 * One ESM build: the CLI and each service's entry point. Splitting shares the
 * common code between entries; services load their data files from src/.
 */
export default defineConfig({
  entry: {
    'cli/main': 'src/cli/main.ts',
    // The local runtime's detached supervisor: `ecom up` runs it with node.
    'runtime/local/supervisor': 'src/runtime/local/supervisor.ts',
    'services/catalog/main': 'src/services/catalog/main.ts',
    'services/search/main': 'src/services/search/main.ts',
    'services/order/main': 'src/services/order/main.ts',
    'services/frontend/main': 'src/services/frontend/main.ts',
  },
  format: 'esm',
  target: 'node20',
  platform: 'node',
  outDir: 'dist',
  splitting: true,
  sourcemap: true,
  clean: true,
  skipNodeModulesBundle: true,
});
