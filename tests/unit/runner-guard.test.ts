/**
 * The build's verdict can be trusted: the test runner, with this project's own
 * configuration (global setup starting PostgreSQL, reporters), exits non-zero and
 * counts as failed both a failing assertion and a failing `beforeAll`. It once exited 0
 * on any failure, because a library's exit hook inside the runner called process.exit(0).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

const CONFIG = 'tests/fixtures/runner-guard/vitest.config.ts';
const VITEST = `${ROOT}node_modules/vitest/vitest.mjs`;

function runFixture(name: string): { status: number | null; closingLine: string; output: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true', NO_COLOR: '1' };
  // The embedded PostgreSQL path is the one that once decided the exit status.
  delete env.TEST_DATABASE_URL;
  delete env.VITEST;
  delete env.VITEST_POOL_ID;
  delete env.VITEST_WORKER_ID;
  const run = spawnSync(process.execPath, [VITEST, 'run', '--config', CONFIG, name], { cwd: ROOT, env, encoding: 'utf8', timeout: 90_000 });
  const output = `${run.stdout}\n${run.stderr}`;
  const closingLine = run.stdout.trim().split('\n').at(-1) ?? '';
  return { status: run.status, closingLine, output };
}

describe('the test runner', () => {
  it('exits non-zero and counts the failure when an assertion fails', () => {
    const run = runFixture('assertion.check');
    expect(run.status, run.output).toBe(1);
    expect(run.closingLine).toBe('1 passed, 1 failed');
  }, 100_000);

  it('exits non-zero and counts every test of the file as failed when beforeAll fails', () => {
    const run = runFixture('setup.check');
    expect(run.status, run.output).toBe(1);
    expect(run.closingLine).toBe('0 passed, 2 failed');
  }, 100_000);

  it('exits 0 with nothing failed or skipped when every test passes', () => {
    const run = runFixture('green.check');
    expect(run.status, run.output).toBe(0);
    expect(run.closingLine).toBe('1 passed, 0 failed');
  }, 100_000);
});
