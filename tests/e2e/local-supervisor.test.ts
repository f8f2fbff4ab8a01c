/**
 * The local supervisor under faults, through the built CLI, with one `up`:
 * request lines with `up --log-level debug` and `logs --level`; PostgreSQL and the
 * broker node SIGKILLed and restarted (status and logs say so, the services recover);
 * the supervisor itself SIGKILLed (status says so, the services' output still reaches
 * their logs, `up` recovers without a duplicate process); logs after `down`, and none
 * after `down --purge`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { portHolder } from '../../src/core/processes.js';
import type { DependencyStatus, SystemStatus } from '../../src/runtime/types.js';
import { describePid, ecom, isAlive, localSystemPerSuite, parseJson, pidOf, recordedPids, servicePortsAt, until } from './helpers.js';

const UP_TIMEOUT_MS = 150_000;

interface StateFile {
  supervisor: { pid: number };
  postgres: { process?: { pid: number }; dataDir: string };
  broker: { kind: string; vm?: { pid: number } };
}

describe('the local supervisor under faults', () => {
  const suite = localSystemPerSuite();
  const state = () => JSON.parse(readFileSync(join(suite.home, 'state.json'), 'utf8')) as StateFile;
  const status = async () => parseJson<SystemStatus>(await ecom(suite.home, ['status', '--json']));
  const dependency = (s: SystemStatus, name: string) => s.dependencies.find((d) => d.name === name) as DependencyStatus;
  const catalog = (path: string) => fetch(`http://127.0.0.1:${5001 + suite.offset}${path}`);
  const allHealthy = (s: SystemStatus) => s.services.every((x) => x.state === 'running' && x.health === 'ok');
  const logs = async (args: string[]) => {
    const run = await ecom(suite.home, ['logs', ...args]);
    expect(run.code, run.stderr).toBe(0);
    return run.stdout;
  };

  it('up --log-level debug: the request lines are in the logs; --level info leaves them out', async () => {
    const up = await ecom(suite.home, ['up', '--port-offset', String(suite.offset), '--log-level', 'debug', '--timeout', '120s'], UP_TIMEOUT_MS);
    expect(up.code, up.stderr).toBe(0);
    expect((await catalog('/catalog?marker=debug-request')).status).toBe(200);
    const requestLine = (out: string) => out.split('\n').find((l) => l.includes('marker=debug-request'));
    const debug = await until(async () => requestLine(await logs(['catalog'])), 10_000, 'the request line in the catalog log');
    expect(JSON.parse(debug)).toMatchObject({ level: 'debug', service: 'catalog', method: 'GET', status: 200 });
    expect(requestLine(await logs(['catalog', '--level', 'debug']))).toBe(debug);
    const info = await logs(['catalog', '--level', 'info']);
    expect(requestLine(info)).toBeUndefined();
    expect(info).toContain('catalog listening');
    // The level is in the plan, so the supervisor's restarts keep it; another one while up is refused.
    const other = await ecom(suite.home, ['up', '--log-level', 'info']);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('already up here with --log-level debug');
  }, UP_TIMEOUT_MS + 30_000);

  it('PostgreSQL killed with SIGKILL is restarted: status shows the restart, its log and the supervisor log say so, the services recover', async () => {
    const pid = state().postgres.process!.pid;
    process.kill(pid, 'SIGKILL');
    const after = await until(
      async () => {
        const s = await status();
        const pg = dependency(s, 'postgres');
        return pg.state === 'running' && (pg.restarts ?? 0) >= 1 && allHealthy(s) ? s : undefined;
      },
      60_000,
      'postgres restarted and every service healthy',
    );
    const pg = dependency(after, 'postgres');
    expect(pg.detail).toMatch(/restarted 1×, last \S+ after signal SIGKILL/);
    expect(Number.isNaN(Date.parse(pg.lastRestart!))).toBe(false);
    expect(state().postgres.process!.pid).not.toBe(pid);
    const note = (await logs(['postgres'])).split('\n').find((l) => l.includes('"ecom":"supervisor"'));
    expect(JSON.parse(note!)).toMatchObject({ level: 'warn', service: 'postgres', msg: expect.stringMatching(/^exited \(signal SIGKILL\); restarting in \d+ ms \(restart 1\)$/) });
    expect(await logs(['supervisor', '--level', 'warn'])).toMatch(/\[warn\] postgres exited \(SIGKILL\)/);
    // Reads work again without any service having been restarted.
    expect((await catalog('/catalog')).status).toBe(200);
    expect(after.services.map((s) => s.restarts)).toEqual([0, 0, 0, 0]);
  }, 90_000);

  it('the broker node killed with SIGKILL is restarted on the same URL, and an order goes through it again', async () => {
    const broker = state().broker;
    expect(broker.kind, 'the e2e tests need rabbitmq-server installed (apt-get install -y rabbitmq-server)').toBe('own');
    process.kill(broker.vm!.pid, 'SIGKILL');
    await until(
      async () => {
        const s = await status();
        const b = dependency(s, 'broker');
        return b.state === 'running' && (b.restarts ?? 0) >= 1 && allHealthy(s) ? s : undefined;
      },
      90_000,
      'broker restarted and every service healthy',
    );
    const brokerLog = await logs(['broker']);
    expect(brokerLog).toContain('"ecom":"supervisor"');
    // Its own lines, plain (no colour codes), at info and up.
    expect(brokerLog).toMatch(/\[info\] <[\d.]+> /);
    expect(brokerLog).not.toContain('\x1b[');
    const frontend = `http://127.0.0.1:${5004 + suite.offset}`;
    const items = ((await (await fetch(`${frontend}/api/catalog`)).json()) as { items: Array<{ id: number }> }).items;
    const res = await fetch(`${frontend}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customer: { email: 'fault@example.com', name: 'Fault' }, items: [{ productId: items[0]!.id, quantity: 1 }] }),
    });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
    const order = (await res.json()) as { id: string | number };
    await until(
      async () => (JSON.stringify(await (await fetch(`${frontend}/api/orders/recent`)).json()).includes(String(order.id)) ? true : undefined),
      30_000,
      `order ${order.id} consumed after the broker restart`,
    );
  }, 150_000);

  let orphanedPids: number[] = [];

  it('the supervisor killed with SIGKILL: status says so and names what runs unsupervised; output written after the kill reaches the logs', async () => {
    orphanedPids = recordedPids(suite.home);
    process.kill(state().supervisor.pid, 'SIGKILL');
    const s = await until(async () => {
      const x = await status();
      return x.supervisor?.state === 'gone' ? x : undefined;
    }, 10_000, 'status to say the supervisor is gone');
    expect(s.running).toBe(true);
    expect(s.supervisor!.orphans).toEqual(expect.arrayContaining(['catalog', 'search', 'order', 'frontend', 'postgres']));
    const text = await ecom(suite.home, ['status']);
    expect(text.stdout).toMatch(/supervisor: not running \(pid \d+ was killed or crashed\)/);
    expect(text.stdout).toContain('run `ecom up` to recover');
    expect((await catalog('/catalog?marker=after-supervisor-kill')).status).toBe(200);
    await until(async () => ((await logs(['catalog'])).includes('marker=after-supervisor-kill') ? true : undefined), 10_000, 'the request after the kill in the catalog log');
  }, 60_000);

  it('up recovers: everything replaced, no duplicate process, every port held by the recorded pid, the logs kept', async () => {
    const run = await ecom(suite.home, ['up', '--timeout', '120s'], UP_TIMEOUT_MS);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/the supervisor \(pid \d+\) is gone; stopping what it left running/);
    expect(orphanedPids.filter(isAlive).map(describePid)).toEqual([]);
    const s = await status();
    expect(s.supervisor?.state).toBe('running');
    expect(allHealthy(s)).toBe(true);
    const ports = servicePortsAt(suite.offset);
    expect(ports.map((p) => portHolder(p)?.pid)).toEqual(s.services.map(pidOf));
    // One process per service, one PostgreSQL server and one Erlang VM for this state directory.
    const ours = processesMentioning(suite.home);
    for (const name of ['catalog', 'search', 'order', 'frontend']) {
      expect(ours.filter((c) => c.includes(`/services/${name}/main.js`)), name).toHaveLength(1);
    }
    expect(ours.filter((c) => c.includes('beam')), 'Erlang VMs').toHaveLength(1);
    const dataDir = state().postgres.dataDir;
    expect(processesMentioning(dataDir).filter((c) => c.includes(' -D ')), 'PostgreSQL servers').toHaveLength(1);
    // Still the debug level: the plan was kept.
    expect((await catalog('/catalog?marker=after-recovery')).status).toBe(200);
    const out = await until(async () => {
      const text = await logs(['catalog']);
      return text.includes('marker=after-recovery') ? text : undefined;
    }, 10_000, 'the request after recovery');
    expect(out).toContain('marker=after-supervisor-kill');
  }, UP_TIMEOUT_MS + 30_000);

  it('logs work after down, for the services and the dependencies; down --purge removes them', async () => {
    const down = await ecom(suite.home, ['down'], 90_000);
    expect(down.code, down.stderr).toBe(0);
    expect(await logs(['catalog'])).toContain('marker=after-recovery');
    expect(await logs(['--tail', '2'])).toMatch(/^(catalog|search|order|frontend) +\| /m);
    expect(await logs(['postgres', '--tail', '20'])).toMatch(/LOG: {2}database system is shut down/);
    expect(await logs(['supervisor', '--tail', '3'])).toMatch(/stopped/);
    expect(await logs(['prometheus', '--tail', '1'])).not.toBe('');
    const purge = await ecom(suite.home, ['down', '--purge'], 90_000);
    expect(purge.code, purge.stderr).toBe(0);
    const none = await ecom(suite.home, ['logs', 'catalog']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^error: there are no logs in .*`ecom down --purge` deleted them\n {2}hint: start the system with `ecom up`\n$/);
  }, 200_000);
});

/** Command lines of the live processes that mention `text`. */
function processesMentioning(text: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmd.includes(text) && isAlive(Number(pid))) out.push(cmd);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
