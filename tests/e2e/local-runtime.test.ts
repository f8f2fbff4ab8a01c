/**
 * The local runtime end to end, through the real CLI: up, status, a real order, logs,
 * a no-op second up, a crashed service restarted, down leaving nothing behind.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandLine, portHolder } from '../../src/core/processes.js';
import type { SystemStatus } from '../../src/runtime/types.js';
import { ciEnv, describePid, ecom, isAlive, localSystemPerSuite, parseJson, pidOf, portIsFree, recordedPids, ROOT, servicePortsAt, until } from './helpers.js';

const UP_TIMEOUT_MS = 150_000;

interface UpJson {
  runtime: string;
  alreadyUp: boolean;
  endpoints: { services: Record<string, string>; prometheus?: string; brokerManagement?: string };
  warnings: string[];
}

describe('ecom on the local runtime', () => {
  const suite = localSystemPerSuite();
  let up: UpJson;

  it('up starts everything, says which runtime it chose, and prints the URLs', async () => {
    const run = await ecom(suite.home, ['up', '--port-offset', String(suite.offset), '--timeout', '120s', '--json'], UP_TIMEOUT_MS);
    expect(run.code, run.stderr).toBe(0);
    up = parseJson<UpJson>(run);
    expect(run.stderr).toContain('runtime: local');
    expect(up.runtime).toBe('local');
    expect(JSON.parse(readFileSync(join(suite.home, 'runtime.json'), 'utf8'))).toMatchObject({ runtime: 'local' });
    expect(up.alreadyUp).toBe(false);
    expect(up.endpoints.services).toEqual({
      catalog: `http://127.0.0.1:${5001 + suite.offset}`,
      search: `http://127.0.0.1:${5002 + suite.offset}`,
      order: `http://127.0.0.1:${5003 + suite.offset}`,
      frontend: `http://127.0.0.1:${5004 + suite.offset}`,
    });
  }, UP_TIMEOUT_MS + 5_000);

  it('keeps the logs (customer names and emails) private: directory 0700, files 0600', () => {
    const logs = join(suite.home, 'logs');
    const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);
    expect(mode(logs)).toBe('700');
    const files = readdirSync(logs);
    expect(files).toEqual(expect.arrayContaining(['supervisor.log', 'postgres.log', 'catalog.log', 'order.log']));
    expect(Object.fromEntries(files.map((f) => [f, mode(join(logs, f))]))).toEqual(Object.fromEntries(files.map((f) => [f, '600'])));
  });

  it('status --json shows every service running and healthy, and the dependencies', async () => {
    const run = await ecom(suite.home, ['status', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const status = parseJson<SystemStatus>(run);
    expect(status.running).toBe(true);
    expect(status.services.map((s) => [s.name, s.state, `${s.ready}/${s.desired}`, s.health, s.url])).toEqual([
      ['catalog', 'running', '1/1', 'ok', `http://127.0.0.1:${5001 + suite.offset}`],
      ['search', 'running', '1/1', 'ok', `http://127.0.0.1:${5002 + suite.offset}`],
      ['order', 'running', '1/1', 'ok', `http://127.0.0.1:${5003 + suite.offset}`],
      ['frontend', 'running', '1/1', 'ok', `http://127.0.0.1:${5004 + suite.offset}`],
    ]);
    for (const s of status.services) {
      expect(pidOf(s)).toBeGreaterThan(1);
      expect(s.restarts).toBe(0);
    }
    const deps = Object.fromEntries(status.dependencies.map((d) => [d.name, d]));
    expect(deps.postgres!.state).toBe('running');
    expect(['running', 'external']).toContain(deps.broker!.state);
    // Prometheus is required here: the smoke and scrape checks below need it.
    expect(deps.prometheus!.state, 'prometheus must be installed for the e2e tests (apt-get install -y prometheus)').toBe('running');
    expect(up.endpoints.prometheus).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('a real order placed through the frontend reaches /api/orders/recent', async () => {
    const frontend = up.endpoints.services.frontend!;
    const catalog = (await (await fetch(`${frontend}/api/catalog`)).json()) as { items: Array<{ id: number }> };
    const productId = catalog.items[0]!.id;
    const res = await fetch(`${frontend}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customer: { email: 'e2e@example.com', name: 'E2E' }, items: [{ productId, quantity: 2 }] }),
    });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
    const order = (await res.json()) as { id: string | number };
    const recent = await until(
      async () => {
        const body = (await (await fetch(`${frontend}/api/orders/recent`)).json()) as unknown;
        return JSON.stringify(body).includes(String(order.id)) ? body : undefined;
      },
      20_000,
      `order ${order.id} in /api/orders/recent`,
    );
    expect(JSON.stringify(recent)).toContain(String(order.id));
  }, 30_000);

  it('Prometheus scrapes every service on the port it listens on', async () => {
    const expected = Object.fromEntries(Object.entries(up.endpoints.services).map(([name, url]) => [name, `${url}/metrics`]));
    const scraped = await until(
      async () => {
        const body = (await (await fetch(`${up.endpoints.prometheus}/api/v1/targets?state=active`)).json()) as {
          data: { activeTargets: Array<{ labels: Record<string, string>; scrapeUrl: string; health: string }> };
        };
        const targets = body.data.activeTargets;
        return targets.length > 0 && targets.every((t) => t.health === 'up') ? targets : undefined;
      },
      30_000,
      'every Prometheus target up',
    );
    expect(Object.fromEntries(scraped.map((t) => [t.labels.service, t.scrapeUrl]))).toEqual(expected);
  }, 40_000);

  it('smoke passes against the running system, every check run (none skipped), Prometheus included', async () => {
    const run = await ecom(suite.home, ['smoke', '--json'], 120_000);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const report = parseJson<{ passed: number; failed: number; skipped: number; checks: Array<{ name: string; status: string; message?: string }> }>(run);
    expect(report.checks.filter((r) => r.status !== 'passed')).toEqual([]);
    expect(report.skipped).toBe(0);
    expect(report.passed).toBe(report.checks.length);
    expect(report.checks.find((r) => r.name === 'Prometheus reports every target up')).toMatchObject({ status: 'passed' });
  }, 130_000);

  it('logs prints the lines of one service', async () => {
    const run = await ecom(suite.home, ['logs', 'catalog', '--tail', '5']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThanOrEqual(5);
    expect(run.stdout).toContain('catalog');
  });

  it('a second up changes nothing and says it is already up', async () => {
    const pidsBefore = recordedPids(suite.home);
    const json = await ecom(suite.home, ['up', '--port-offset', String(suite.offset), '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(parseJson<UpJson>(json).alreadyUp).toBe(true);
    const human = await ecom(suite.home, ['up', '--port-offset', String(suite.offset)]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain('already up');
    expect(recordedPids(suite.home)).toEqual(pidsBefore);
  });

  it('up with another port offset while up is refused, naming the running one', async () => {
    const run = await ecom(suite.home, ['up', '--port-offset', String(suite.offset + 5)]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`port offset ${suite.offset}`);
    expect(run.stderr).toContain('without --port-offset');
  });

  it('a bare up (no --port-offset) finds the system up on its offset and changes nothing', async () => {
    const pidsBefore = recordedPids(suite.home);
    const run = await ecom(suite.home, ['up', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const result = parseJson<UpJson>(run);
    expect(result.alreadyUp).toBe(true);
    expect(result.endpoints.services.catalog).toBe(`http://127.0.0.1:${5001 + suite.offset}`);
    expect(recordedPids(suite.home)).toEqual(pidsBefore);
  });

  it('restarts a service killed with SIGKILL and counts the restart', async () => {
    const before = parseJson<SystemStatus>(await ecom(suite.home, ['status', '--json'])).services.find((s) => s.name === 'search')!;
    process.kill(pidOf(before)!, 'SIGKILL');
    const after = await until(
      async () => {
        const s = parseJson<SystemStatus>(await ecom(suite.home, ['status', '--json'])).services.find((x) => x.name === 'search')!;
        return s.restarts >= 1 && s.health === 'ok' && s.state === 'running' ? s : undefined;
      },
      30_000,
      'search to be restarted and healthy',
    );
    expect(pidOf(after)).not.toBe(pidOf(before));
    expect(after.restarts).toBeGreaterThanOrEqual(1);
    const notes = readFileSync(join(suite.home, 'logs', 'search.log'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('"ecom":"supervisor"'))
      .map((l) => JSON.parse(l) as { level: string; service: string; msg: string });
    expect(notes[0]).toMatchObject({ level: 'warn', service: 'search', msg: expect.stringMatching(/^exited \(signal SIGKILL\); restarting in \d+ ms \(restart 1\)$/) });
  }, 40_000);

  it('status --watch prints a new block every 2 s until interrupted', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'ecom.js'), 'status', '--watch'], { env: ciEnv(suite.home), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await until(async () => ((out.match(/^--- /gm) ?? []).length >= 2 ? true : undefined), 10_000, 'two status blocks');
    child.kill('SIGINT');
    const code = await exited;
    clearTimeout(killer);
    expect(code).toBe(0);
    expect(out).toContain('catalog');
  }, 20_000);

  it('status --watch --json prints one compact JSON document per line per refresh', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'ecom.js'), 'status', '--watch', '--json'], { env: ciEnv(suite.home), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await until(async () => ((out.match(/\n/g) ?? []).length >= 2 ? true : undefined), 10_000, 'two JSON lines');
    child.kill('SIGINT');
    const code = await exited;
    clearTimeout(killer);
    expect(code).toBe(0);
    const lines = out.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect((JSON.parse(line) as SystemStatus).running).toBe(true);
  }, 20_000);

  it('down stops exactly what up started and frees the ports; a second down has nothing to stop', async () => {
    const pids = recordedPids(suite.home);
    expect(pids.length).toBeGreaterThanOrEqual(6);
    const state = JSON.parse(readFileSync(join(suite.home, 'state.json'), 'utf8')) as {
      postgres: { port: number };
      prometheus: { port?: number };
      broker: { kind: string; epmdPort?: number };
    };
    // Our own RabbitMQ node runs its own epmd on a private port (not the shared 4369).
    const epmdPort = state.broker.kind === 'own' ? state.broker.epmdPort : undefined;
    if (state.broker.kind === 'own') {
      expect(epmdPort).toBeGreaterThan(0);
      expect(epmdPort).not.toBe(4369);
      const holder = portHolder(epmdPort!);
      expect(holder, `a listener on epmd port ${epmdPort}`).toBeDefined();
      expect(commandLine(holder!.pid)).toContain('epmd');
    }
    const run = await ecom(suite.home, ['down', '--json'], 90_000);
    expect(run.code, run.stderr).toBe(0);
    const result = parseJson<{ stopped: string[]; purged: boolean }>(run);
    expect(result.stopped).toEqual(expect.arrayContaining(['supervisor', 'catalog', 'search', 'order', 'frontend', 'postgres']));
    expect(pids.filter(isAlive).map(describePid)).toEqual([]);
    const ports = [...servicePortsAt(suite.offset), state.postgres.port, ...(state.prometheus.port ? [state.prometheus.port] : []), ...(epmdPort ? [epmdPort] : [])];
    if (epmdPort) expect(portHolder(epmdPort), `epmd on ${epmdPort} after down`).toBeUndefined();
    expect(await Promise.all(ports.map(portIsFree))).toEqual(ports.map(() => true));
    const status = parseJson<SystemStatus>(await ecom(suite.home, ['status', '--json']));
    expect(status.running).toBe(false);
    const again = await ecom(suite.home, ['down']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('nothing to stop');
  }, 100_000);
});
