/** promtool, from Debian's prometheus package: found or the test fails saying how to install it. */
import { spawnSync } from 'node:child_process';
import { findExecutable, SYSTEM_BIN_DIRS } from '../../../src/tools/which.js';

const PROMTOOL_TIMEOUT_MS = 60_000;

export function promtoolPath(): string {
  const found = findExecutable('promtool', process.env, SYSTEM_BIN_DIRS);
  if (!found) throw new Error('promtool is not installed: it comes with Debian\'s prometheus package (apt-get install -y prometheus)');
  return found;
}

export interface PromtoolRun {
  code: number | null;
  output: string;
}

export function promtool(args: string[], cwd: string): PromtoolRun {
  const run = spawnSync(promtoolPath(), args, { cwd, encoding: 'utf8', timeout: PROMTOOL_TIMEOUT_MS });
  return { code: run.status, output: `${run.stdout}${run.stderr}` };
}
