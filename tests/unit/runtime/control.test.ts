/**
 * The supervisor's control path: a restart asked over the state directory's socket
 * reaches the supervisor's processes (stop, then start), one at a time per service,
 * never while the supervisor stops; bad requests are refused; only the owner can
 * connect.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { controlSocketPath, requestRestart, restartThrough, startControl, type ControlServer, type Restartable } from '../../../src/runtime/local/control.js';
import type { ServiceName } from '../../../src/core/system.js';

/** A supervised process that records what was done to it. */
class FakeProcess implements Restartable {
  pid: number | undefined;
  startedAt: Date | undefined;
  readonly calls: string[] = [];
  constructor(
    private nextPid: number,
    private readonly stopMs = 0,
    private readonly onStop: () => void = () => {},
  ) {
    this.pid = nextPid;
  }
  async stop(graceMs: number): Promise<void> {
    this.calls.push(`stop ${graceMs}`);
    this.onStop();
    await new Promise((resolve) => setTimeout(resolve, this.stopMs));
    this.pid = undefined;
  }
  start(): void {
    this.nextPid += 1;
    this.pid = this.nextPid;
    this.startedAt = new Date();
    this.calls.push(`start ${this.pid}`);
  }
}

describe('the control socket', () => {
  const dirs: string[] = [];
  const servers: ControlServer[] = [];
  const newDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecom-control-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('restarts the asked services through the supervisor and answers with their new pids', async () => {
    const dir = newDir();
    const order = new FakeProcess(100);
    const catalog = new FakeProcess(200);
    const log: string[] = [];
    const services = new Map<ServiceName, Restartable>([['order', order], ['catalog', catalog]]);
    servers.push(await startControl(dir, restartThrough(services, { graceMs: 1234, stopping: () => false, log: (m) => log.push(m) }), () => {}));

    const replies = await requestRestart(dir, ['order'], 5_000);
    expect(replies).toEqual([{ service: 'order', pid: 101, startedAt: order.startedAt!.toISOString() }]);
    expect(order.calls).toEqual(['stop 1234', 'start 101']);
    expect(catalog.calls).toEqual([]);
    expect(log).toEqual(['order: restart asked; stopping pid 100', 'order: restarted as pid 101']);
  });

  it('listens on a socket only its owner may use, in the state directory', async () => {
    const dir = newDir();
    const server = await startControl(dir, async () => ({ pid: 1, startedAt: '' }), () => {});
    servers.push(server);
    expect(server.socketPath).toBe(join(dir, 'control.sock'));
    expect(statSync(server.socketPath).mode & 0o777).toBe(0o600);
  });

  it('puts the socket in the temp directory when the state directory path is too long for one', () => {
    const long = join(tmpdir(), 'x'.repeat(120));
    const path = controlSocketPath(long);
    expect(path.startsWith(tmpdir())).toBe(true);
    expect(Buffer.byteLength(path)).toBeLessThanOrEqual(100);
    expect(controlSocketPath(long)).toBe(path);
  });

  it('restarts one service once at a time: a second request waits for the first', async () => {
    const dir = newDir();
    const order = new FakeProcess(100, 100);
    servers.push(await startControl(dir, restartThrough(new Map([['order', order]]), { graceMs: 1, stopping: () => false, log: () => {} }), () => {}));
    const [first, second] = await Promise.all([requestRestart(dir, ['order'], 5_000), requestRestart(dir, ['order'], 5_000)]);
    expect(order.calls).toEqual(['stop 1', 'start 101', 'stop 1', 'start 102']);
    expect([...first, ...second].map((r) => ('pid' in r ? r.pid : r.error)).sort()).toEqual([101, 102]);
  });

  it('does not start a service again once the supervisor is stopping', async () => {
    const dir = newDir();
    let stopping = false;
    // `ecom down` arrives while the old process is stopping.
    const order = new FakeProcess(100, 0, () => (stopping = true));
    servers.push(await startControl(dir, restartThrough(new Map([['order', order]]), { graceMs: 1, stopping: () => stopping, log: () => {} }), () => {}));
    expect(await requestRestart(dir, ['order'], 5_000)).toEqual([{ service: 'order', error: 'the supervisor is stopping' }]);
    expect(order.calls).toEqual(['stop 1']);
  });

  it('says which service has not started yet, and refuses names it does not know', async () => {
    const dir = newDir();
    servers.push(await startControl(dir, restartThrough(new Map(), { graceMs: 1, stopping: () => false, log: () => {} }), () => {}));
    expect(await requestRestart(dir, ['search'], 5_000)).toEqual([{ service: 'search', error: 'search has not started yet' }]);
    await expect(requestRestart(dir, ['billing' as ServiceName], 5_000)).rejects.toThrow('services: unknown service "billing"');
  });

  it('fails with the socket error when no supervisor listens', async () => {
    await expect(requestRestart(newDir(), ['order'], 5_000)).rejects.toThrow(/ENOENT|ECONNREFUSED/);
  });
});
