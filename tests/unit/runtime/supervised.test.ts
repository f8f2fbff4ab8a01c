import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RESTART_BASE_MS, SupervisedProcess } from '../../../src/runtime/local/supervised.js';

const dirs: string[] = [];
const procs: SupervisedProcess[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop(1_000)));
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

const logLines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

async function until(probe: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a supervised service that crashes', () => {
  it("says in the service's own log why it stopped and when it restarts, between the old run's lines and the new run's", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecom-supervised-'));
    dirs.push(dir);
    const file = join(dir, 'catalog.log');
    const proc = new SupervisedProcess({
      name: 'catalog',
      command: process.execPath,
      args: ['-e', 'console.log(JSON.stringify({ level: "info", msg: "listening" })); process.kill(process.pid, "SIGKILL")'],
      env: process.env,
      logFile: file,
      markers: ['catalog'],
      onChange: () => {},
      log: () => {},
    });
    procs.push(proc);
    proc.start();
    await until(() => logLines(file).filter((l) => l.includes('listening')).length >= 2, 'the restarted run to log');
    await proc.stop(1_000);
    const records = logLines(file).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records[0]).toMatchObject({ msg: 'listening' });
    expect(records[1]).toMatchObject({
      level: 'warn',
      service: 'catalog',
      msg: `exited (signal SIGKILL); restarting in ${RESTART_BASE_MS} ms (restart 1)`,
      ecom: 'supervisor',
    });
    expect(Number.isNaN(Date.parse(String(records[1]!.time)))).toBe(false);
    expect(records[2]).toMatchObject({ msg: 'listening' });
    expect(proc.restarts).toBeGreaterThanOrEqual(1);
  });

  it('clears what the dead process left before each restart (beforeRestart), then starts the next run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecom-supervised-'));
    dirs.push(dir);
    const file = join(dir, 'broker.log');
    const events: string[] = [];
    const proc = new SupervisedProcess({
      name: 'broker',
      command: process.execPath,
      args: ['-e', 'console.log("run"); process.exit(3)'],
      env: process.env,
      logFile: file,
      markers: ['broker'],
      beforeRestart: async () => {
        events.push(`cleared after ${logLines(file).filter((l) => l === 'run').length} runs`);
      },
      onChange: () => {},
      log: () => {},
    });
    procs.push(proc);
    proc.start();
    await until(() => logLines(file).filter((l) => l === 'run').length >= 2, 'the second run');
    await proc.stop(1_000);
    expect(events[0]).toBe('cleared after 1 runs');
    expect(proc.lastRestart).toMatchObject({ reason: 'code 3' });
  });
});
