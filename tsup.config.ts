import { readFileSync } from 'node:fs';
import { defineConfig, type Options } from 'tsup';
import type { Plugin } from 'esbuild';

const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * src/cli/version.ts reads package.json through createRequire, which wakes the CommonJS
 * loader on every start (several ms of `ecom --version`); the build writes the value in.
 */
const versionAtBuildTime: Plugin = {
  name: 'version-at-build-time',
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]cli[\\/]version\.ts$/ }, () => ({
      contents: `export const VERSION: string = ${JSON.stringify(PACKAGE_VERSION)};`,
      loader: 'ts',
    }));
  },
};

/**
 * commander is bundled into dist/cli/main.js (`noExternal`) so `ecom --help` loads one
 * file instead of resolving a package and its five CommonJS modules. Its `require`s of
 * Node built-ins cannot run in an ESM bundle, so they become `process.getBuiltinModule`
 * (Node ≥ 20.16; we need ≥ 20.19), for commander's files only.
 */
const LAZY_BUILTINS = new Set(['node:child_process']);

const builtinsForBundledCommonJs: Plugin = {
  name: 'builtins-for-bundled-commonjs',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) => {
      if (args.kind !== 'require-call' || !/[\\/]node_modules[\\/]commander[\\/]/.test(args.importer)) return undefined;
      return { path: args.path, namespace: 'builtin-for-cjs' };
    });
    build.onLoad({ filter: /.*/, namespace: 'builtin-for-cjs' }, (args) => ({
      contents: LAZY_BUILTINS.has(args.path)
        ? // Loaded on first use: commander needs child_process only for executable
          // subcommands, which ecom has none of, and compiling it costs ~5 ms a start.
          `let m; module.exports = new Proxy({}, { get: (_, key) => (m ??= process.getBuiltinModule(${JSON.stringify(args.path)}))[key] });`
        : `module.exports = process.getBuiltinModule(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

/**
 * Two builds. The ESM one: the CLI and each service's entry point, with splitting to
 * share the common code between entries; services load their data files from src/.
 * The CommonJS one: the launcher alone (src/cli/launcher.ts), which answers cached help
 * before Node sets up its ES module loader and otherwise imports dist/cli/main.js.
 * The ESM build cleans dist/ but for the launcher, which the other build writes.
 */
const LAUNCHER = 'cli/launcher.cjs';

/** What both builds share: Node 20 code in dist/, built-ins imported as `node:…`. */
const common = { target: 'node20', platform: 'node', outDir: 'dist', removeNodeProtocol: false } satisfies Options;

const esmBuild: Options = {
  ...common,
  entry: {
    'cli/main': 'src/cli/main.ts',
    // The local runtime's detached supervisor: `ecom up` runs it with node.
    'runtime/local/supervisor': 'src/runtime/local/supervisor.ts',
    // The cluster runtimes' detached forwarder: startForwarder runs it with node.
    'runtime/cluster/forwarder': 'src/runtime/cluster/forwarder-main.ts',
    'services/catalog/main': 'src/services/catalog/main.ts',
    'services/search/main': 'src/services/search/main.ts',
    'services/order/main': 'src/services/order/main.ts',
    'services/frontend/main': 'src/services/frontend/main.ts',
  },
  format: 'esm',
  splitting: true,
  sourcemap: true,
  clean: ['**/*', `!${LAUNCHER}`],
  skipNodeModulesBundle: true,
  // Built-ins pass tsup's external plugin so the plugin below sees commander's; every
  // other importer still gets them as plain external imports from esbuild.
  noExternal: ['commander', /^node:/],
  esbuildPlugins: [builtinsForBundledCommonJs, versionAtBuildTime],
};

const launcherBuild: Options = {
  ...common,
  // bin/ecom.js requires it; it imports cli/main (external: the ESM build's file).
  entry: { 'cli/launcher': 'src/cli/launcher.ts' },
  format: 'cjs',
  outExtension: () => ({ js: '.cjs' }),
  clean: false,
  external: ['./main.js'],
};

/**
 * A build of chosen entries (the Dockerfile's `--entry.services/<name>/main`, which
 * replaces the entries of every build) is the ESM build alone: the launcher belongs
 * to the CLI, and CommonJS cannot hold the services' top-level await.
 */
export default defineConfig((cli) => (cli.entry ? [esmBuild] : [esmBuild, launcherBuild]));
