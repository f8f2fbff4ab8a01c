/**
 * The local runtime when something is in the way: a taken port, a broker that never
 * answers, a deadline too short. Each test has its own state directory and ports.
 */
import { createServer, type Server } from 'node:net';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SystemStatus } from '../../src/runtime/types.js';
import { describePid, ecom, ensureBuilt, freeOffset, isAlive, newHome, parseJson, portIsFree, recordedPids, servicePortsAt, until } from './helpers.js';

const homes: string[] = [];
const servers: Server[] = [];

function home(): string {
  const h = newHome();
  homes.push(h);
  return h;
}

beforeAll(() => ensureBuilt(), 180_000);

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

afterAll(async () => {
  for (const h of homes) {
    await ecom(h, ['down', '--purge'], 90_000);
    rmSync(h, { recursive: true, force: true });
  }
}, 180_000);

describe('ecom up when something is in the way', () => {
  it('refuses a taken service port with one line naming the port and its holder, before starting anything', async () => {
    const h = home();
    const offset = await freeOffset();
    const taken = 5003 + offset;
    const server = createServer();
    servers.push(server);
    await new Promise<void>((r) => server.listen(taken, '127.0.0.1', () => r()));
    const run = await ecom(h, ['up', '--port-offset', String(offset)]);
    expect(run.code).toBe(1);
    const errorLines = run.stderr.split('\n').filter((l) => l.startsWith('error:'));
    expect(errorLines).toEqual([`error: port ${taken} (order) is taken by pid ${process.pid} (node)`]);
    expect(run.stderr).toContain('--port-offset');
    expect(existsSync(join(h, 'state.json'))).toBe(false);
    const status = parseJson<SystemStatus>(await ecom(h, ['status', '--json']));
    expect(status.running).toBe(false);
  });

  it('comes up with a broker that never answers and Prometheus pushed off its port, and says both; down works without the supervisor', async () => {
    const h = home();
    const offset = await freeOffset();
    const prometheusPort = 9090 + offset;
    const blocker = createServer();
    servers.push(blocker);
    await new Promise<void>((r) => blocker.once('error', () => r()).listen(prometheusPort, '127.0.0.1', () => r()));
    const url = 'amqp://guest:guest@127.0.0.1:1';
    const run = await ecom(h, ['up', '--port-offset', String(offset), '--amqp-url', url, '--timeout', '120s', '--json'], 150_000);
    expect(run.code, run.stderr).toBe(0);
    const up = parseJson<{ warnings: string[] }>(run);
    expect(up.warnings.join('\n')).toContain('does not answer');
    expect(run.stderr).toContain('does not answer');
    const status = parseJson<SystemStatus>(await ecom(h, ['status', '--json']));
    const broker = status.dependencies.find((d) => d.name === 'broker')!;
    expect(broker.state).toBe('missing');
    expect(broker.detail).toContain('not connected');
    expect(broker.detail).not.toContain('guest:guest');
    const prometheus = status.dependencies.find((d) => d.name === 'prometheus')!;
    if (prometheus.state !== 'missing') {
      const moved = new RegExp(`on port \\d+ instead of ${prometheusPort} \\(9090 \\+ port offset ${offset}\\), which was taken`);
      expect(up.warnings.join('\n')).toMatch(moved);
      expect(run.stderr).toMatch(moved);
      expect(prometheus.detail).toMatch(moved);
    }
    const health = Object.fromEntries(status.services.map((s) => [s.name, s.health]));
    expect(health).toEqual({ catalog: 'ok', search: 'ok', order: 'degraded', frontend: 'degraded' });

    // A supervisor killed hard leaves its children; down stops them by their recorded pids.
    const pids = recordedPids(h);
    const state = JSON.parse(readFileSync(join(h, 'state.json'), 'utf8')) as { supervisor: { pid: number } };
    process.kill(state.supervisor.pid, 'SIGKILL');
    await until(async () => (isAlive(state.supervisor.pid) ? undefined : true), 5_000, 'the supervisor to die');
    expect(parseJson<SystemStatus>(await ecom(h, ['status', '--json'])).running).toBe(true);
    const down = await ecom(h, ['down', '--purge'], 90_000);
    expect(down.code, down.stderr).toBe(0);
    expect(pids.filter(isAlive).map(describePid)).toEqual([]);
    expect(await Promise.all(servicePortsAt(offset).map(portIsFree))).toEqual([true, true, true, true]);
    expect(existsSync(join(h, 'state.json'))).toBe(false);
    expect(existsSync(join(h, 'logs'))).toBe(false);
    expect(existsSync(join(h, 'runtime.json')), 'down --purge forgets the runtime up chose').toBe(false);
  }, 200_000);

  it('gives up at the deadline with exit 124, naming what was not ready', async () => {
    const h = home();
    const offset = await freeOffset();
    const run = await ecom(h, ['up', '--port-offset', String(offset), '--amqp-url', 'amqp://127.0.0.1:1', '--timeout', '500ms'], 60_000);
    expect(run.code).toBe(124);
    expect(run.stderr).toMatch(/error: not ready after \d+ s: /);
    expect(run.stderr).toMatch(/catalog|search|order|frontend|postgres|supervisor/);
    const down = await ecom(h, ['down', '--purge'], 90_000);
    expect(down.code, down.stderr).toBe(0);
  }, 120_000);
});
