/**
 * The loop end to end through the built CLI: `ecom dev` (= `ecom up --watch`) in a
 * copy of the project (node_modules linked), so the edits never touch the
 * repository. An edit to one service goes live and leaves the others' processes
 * alone; a syntax error is reported while the old code keeps answering; a service
 * that crashes at start is reported and the loop goes on; an edit to common/
 * restarts all four; `ecom restart` does the same by hand; Ctrl-C ends the watch
 * and leaves the system running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SystemStatus } from '../../src/runtime/types.js';
import { ciEnv, ecomWith, ensureBuilt, freeOffset, pidOf, ROOT, until, type Run } from './helpers.js';

const UP_TIMEOUT_MS = 180_000;
const CHANGE_TIMEOUT_MS = 90_000;
/** What the CLI and the services need from the project; dist/ keeps its times so it stays newer than src/. */
const PROJECT_FILES = ['bin', 'dist', 'src', 'manifests', 'dashboards', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsup.config.ts'];
const SERVICES = ['catalog', 'search', 'order', 'frontend'] as const;

describe('ecom dev: edit, see it live', () => {
  let dir: string;
  let project: string;
  let home: string;
  let offset: number;
  let dev: ChildProcess | undefined;
  let output = '';
  let devExit: Promise<number | null>;
  let orderApp: string;
  let orderSource: string;
  let commonSource: string;

  const url = (service: (typeof SERVICES)[number], path = '/') => `http://127.0.0.1:${5001 + SERVICES.indexOf(service) + offset}${path}`;

  /** `ecom <args>` of the copy, in its directory and state. */
  const ecomCopy = (args: string[], timeoutMs = 120_000): Promise<Run> => ecomWith(ciEnv(home), args, timeoutMs, project);

  const pids = async (): Promise<Record<string, number | undefined>> => {
    const run = await ecomCopy(['status', '--json']);
    const status = JSON.parse(run.stdout) as SystemStatus;
    return Object.fromEntries(status.services.map((s) => [s.name, pidOf(s)]));
  };

  /** The dev process's output after `from`, once it matches. */
  const outputMatching = (pattern: RegExp, from: number, what: string) =>
    until(async () => (pattern.test(output.slice(from)) ? output.slice(from) : undefined), CHANGE_TIMEOUT_MS, `${what}; ecom dev said:\n${output.slice(from)}`);

  const get = async (target: string) => {
    const res = await fetch(target);
    return { status: res.status, edit: res.headers.get('x-watch-edit'), body: await res.text() };
  };

  /** order's app.ts with `line` inserted after `anchor` (which must be there: the test edits real code). */
  const withLine = (source: string, anchor: string, line: string) => {
    expect(source, `the test's edit point moved: ${anchor}`).toContain(anchor);
    return source.replace(anchor, `${anchor}\n${line}`);
  };
  const editOrder = (line: string) => writeFileSync(orderApp, withLine(orderSource, "app.get('/', (_req, res) => {", line));

  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'ecom-watch-'));
    project = join(dir, 'project');
    home = join(dir, 'home');
    mkdirSync(project);
    for (const entry of PROJECT_FILES) cpSync(join(ROOT, entry), join(project, entry), { recursive: true, preserveTimestamps: true });
    symlinkSync(join(ROOT, 'node_modules'), join(project, 'node_modules'));
    orderApp = join(project, 'src', 'services', 'order', 'app.ts');
    orderSource = readFileSync(orderApp, 'utf8');
    commonSource = readFileSync(join(project, 'src', 'services', 'common', 'app-factory.ts'), 'utf8');
    offset = await freeOffset();
  }, 60_000);

  afterAll(async () => {
    dev?.kill('SIGKILL');
    if (home) await ecomCopy(['down', '--purge'], 90_000);
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('ecom dev brings the system up, then watches without restarting anything', async () => {
    dev = spawn(process.execPath, [join(project, 'bin', 'ecom.js'), 'dev', '--port-offset', String(offset), '--timeout', '150s'], {
      cwd: project,
      env: ciEnv(home),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    dev.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    dev.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    devExit = new Promise((resolve) => dev!.once('exit', (code) => resolve(code)));
    await until(async () => (output.includes('watching src/services') ? true : undefined), UP_TIMEOUT_MS, `ecom dev to watch; it said:\n${output}`);
    expect(output).toContain('every service is healthy');
    expect(output).not.toMatch(/restarted/);
    for (const service of SERVICES) expect((await get(url(service, '/health'))).status).toBe(200);
  }, UP_TIMEOUT_MS + 10_000);

  it('an edit to order goes live, and the other services keep their processes', async () => {
    const before = await pids();
    expect((await get(url('order'))).edit).toBeNull();
    const from = output.length;
    editOrder("        res.setHeader('x-watch-edit', 'one');");
    const said = await outputMatching(/order: rebuilt in \d+\.\d s, restarted, healthy in \d+\.\d s \(pid \d+\)/, from, 'order to be restarted');
    expect((await get(url('order'))).edit).toBe('one');
    expect(said).not.toMatch(/(catalog|search|frontend): rebuilt/);
    const after = await pids();
    expect(after.order).not.toBe(before.order);
    for (const other of ['catalog', 'search', 'frontend']) expect(after[other], other).toBe(before[other]);
  }, CHANGE_TIMEOUT_MS + 30_000);

  it('a syntax error is reported and the old code keeps answering; the fix goes live', async () => {
    const before = await pids();
    let from = output.length;
    editOrder('        const broken = ;');
    const said = await outputMatching(/build failed in \d+\.\d s; the services keep running what they ran/, from, 'the build error');
    expect(said).toContain('src/services/order/app.ts');
    expect(said).toContain('const broken = ;');
    const answer = await get(url('order'));
    expect(answer.status).toBe(200);
    expect(answer.edit).toBe('one');
    expect((await pids()).order).toBe(before.order);

    from = output.length;
    editOrder("        res.setHeader('x-watch-edit', 'two');");
    await outputMatching(/order: rebuilt in \d+\.\d s, restarted, healthy in/, from, 'the fixed order to be restarted');
    expect((await get(url('order'))).edit).toBe('two');
    expect((await pids()).order).not.toBe(before.order);
  }, 2 * CHANGE_TIMEOUT_MS + 30_000);

  it('a service that crashes at start is reported with its log, and the next edit brings it back', async () => {
    let from = output.length;
    writeFileSync(orderApp, withLine(orderSource, 'export function createOrderApp(deps: OrderDeps): OrderApp {', "  throw new Error('watch test: crash at start');"));
    const said = await outputMatching(/order: rebuilt in \d+\.\d s, restarted \(pid \d+\), not healthy: [^\n]*exited/, from, 'the crash to be reported');
    expect(said).toContain('watch test: crash at start');

    from = output.length;
    editOrder("        res.setHeader('x-watch-edit', 'three');");
    await outputMatching(/order: rebuilt in \d+\.\d s, restarted, healthy in/, from, 'order to come back');
    expect((await get(url('order'))).edit).toBe('three');
  }, 2 * CHANGE_TIMEOUT_MS + 30_000);

  it('an edit to common/ restarts all four, each with the new code', async () => {
    const before = await pids();
    const from = output.length;
    const anchor = "  app.get('/health/live', (_req, res) => {";
    writeFileSync(join(project, 'src', 'services', 'common', 'app-factory.ts'), withLine(commonSource, anchor, "    res.setHeader('x-watch-edit', 'common');"));
    const restarted = (text: string) => SERVICES.filter((s) => new RegExp(`${s}: rebuilt in [^\\n]*, restarted, healthy in`).test(text));
    await until(async () => (restarted(output.slice(from)).length === 4 ? true : undefined), CHANGE_TIMEOUT_MS, `all four to be restarted; ecom dev said:\n${output.slice(from)}`);
    const after = await pids();
    for (const service of SERVICES) {
      expect(after[service], service).not.toBe(before[service]);
      expect((await get(url(service, '/health/live'))).edit, service).toBe('common');
    }
  }, CHANGE_TIMEOUT_MS + 30_000);

  it('ecom restart order restarts order alone and waits until it is healthy', async () => {
    const before = await pids();
    const run = await ecomCopy(['restart', 'order']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^order: build unchanged, restarted, healthy in \d+\.\d s \(pid \d+\)\n$/);
    const after = await pids();
    expect(after.order).not.toBe(before.order);
    expect((await get(url('order'))).status).toBe(200);
    for (const other of ['catalog', 'search', 'frontend']) expect(after[other], other).toBe(before[other]);
  }, 150_000);

  it('ecom restart with an unknown service is one line and a hint, exit 2', async () => {
    const run = await ecomCopy(['restart', 'ordr']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^error: [^\n]*ordr[^\n]*\n {2}hint: [^\n]+\n$/);
  });

  it('Ctrl-C ends the watch and leaves the system running', async () => {
    const before = await pids();
    dev!.kill('SIGINT');
    expect(await devExit).toBe(0);
    dev = undefined;
    expect(output).toContain('watch ended; the system keeps running');
    for (const service of SERVICES) expect((await get(url(service, '/health'))).status, service).toBe(200);
    expect(await pids()).toEqual(before);
  }, 60_000);
});
