/**
 * Runs the real CLI as a child process: dist/cli/main.js, rebuilt first when any
 * source is newer (tests run the code they are about), or the TypeScript source
 * through tsx when a test asks for it.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from './build.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIST_ENTRY = `${ROOT}dist/cli/main.js`;
/** By URL, so a child started in a temporary directory still finds tsx. */
const TSX_LOADER = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface RunCliOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
  /** Force the source (tsx) even when dist exists. */
  source?: boolean;
}

/** The environment a CI runner would give: no TTY, no colour forcing from the test runner. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.FORCE_COLOR;
  delete env.NO_COLOR;
  delete env.ECOM_RUNTIME;
  return { ...env, ...extra };
}

export function runCli(args: string[], options: RunCliOptions = {}): CliResult {
  if (!options.source) ensureBuilt();
  const entry = options.source ? ['--import', TSX_LOADER, `${ROOT}src/cli/main.ts`] : [DIST_ENTRY];
  const result = spawnSync(process.execPath, [...entry, ...args], {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? cleanEnv(),
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
