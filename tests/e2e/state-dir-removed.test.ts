/**
 * The state directory removed (or its state file damaged) under a running local
 * system, through the real CLI: no command shows a stack trace or an undocumented exit
 * code, the supervisor writes the state back, and `down` still stops every process.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SystemStatus } from '../../src/runtime/types.js';
import { describePid, ecom, ensureBuilt, freeOffset, isAlive, newHome, parseJson, recordedPids, until, type Run } from './helpers.js';

const UP_TIMEOUT_MS = 150_000;
const RESTORE_TIMEOUT_MS = 20_000;
const DOCUMENTED_EXIT_CODES = [0, 1, 2, 3, 124];

function expectNoStackTrace(run: Run): void {
  expect(DOCUMENTED_EXIT_CODES, run.stderr).toContain(run.code);
  expect(run.stderr + run.stdout).not.toMatch(/^\s+at |\.js:\d+:\d+/m);
}

describe('the state directory removed under a running local system', () => {
  let home: string;
  let pids: number[] = [];

  beforeAll(async () => {
    ensureBuilt();
    home = newHome();
  });

  afterAll(async () => {
    if (!home) return;
    await ecom(home, ['down', '--purge'], 90_000);
    // Whatever the test left running, by the pids recorded while it ran.
    for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(home, { recursive: true, force: true });
  }, 120_000);

  const runningStatus = async (): Promise<SystemStatus | undefined> => {
    const run = await ecom(home, ['status', '--json']);
    expectNoStackTrace(run);
    if (run.code !== 0) return undefined;
    const status = parseJson<SystemStatus>(run);
    return status.running && status.services.length === 4 && status.services.every((s) => s.state === 'running') ? status : undefined;
  };

  it('is written back by the supervisor, and down then stops everything', async () => {
    const offset = await freeOffset();
    const up = await ecom(home, ['up', '--runtime', 'local', '--port-offset', String(offset), '--timeout', '120s'], UP_TIMEOUT_MS);
    expect(up.code, up.stderr).toBe(0);
    pids = recordedPids(home);
    expect(pids.length).toBeGreaterThanOrEqual(5);

    rmSync(home, { recursive: true, force: true });
    for (const command of [['status'], ['logs', '--tail', '5'], ['down', '--help']]) expectNoStackTrace(await ecom(home, command));
    await until(runningStatus, RESTORE_TIMEOUT_MS, 'status to show the system running again after its state directory was removed');

    writeFileSync(join(home, 'state.json'), '\u0000garbage{');
    await until(runningStatus, RESTORE_TIMEOUT_MS, 'status to show the system running again after state.json was damaged');

    const down = await ecom(home, ['down'], 90_000);
    expect(down.code, down.stderr).toBe(0);
    const left = pids.filter(isAlive);
    expect(left.map(describePid)).toEqual([]);
  }, UP_TIMEOUT_MS + 4 * RESTORE_TIMEOUT_MS + 120_000);
});
