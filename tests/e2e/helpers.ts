/**
 * The e2e harness: the real CLI (bin/ecom.js → dist) as a child process, each test
 * with its own ECOM_HOME and port offset, every wait bounded.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import type { ServiceStatus } from '../../src/runtime/types.js';
import { ensureBuilt } from '../helpers/build.js';
import { portIsFree as portFreeOn } from '../../src/core/processes.js';
import { reservePortOffset } from '../helpers/port-offset.js';
import { eventually } from '../helpers/services.js';

export { ensureBuilt };

/** 127.0.0.1:port can be bound now; one argument, so `ports.map(portIsFree)` reads as it should. */
export const portIsFree = (port: number): Promise<boolean> => portFreeOn(port);

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function newHome(): string {
  return mkdtempSync(join(tmpdir(), 'ecom-e2e-'));
}

/** The environment of a CI runner, pointed at this test's state directory. */
export function ciEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ECOM_HOME: home, CI: 'true' };
  for (const k of ['FORCE_COLOR', 'NO_COLOR', 'ECOM_RUNTIME', 'AMQP_URL', 'DATABASE_URL', 'PORT']) delete env[k];
  return env;
}

/** Runs `ecom <args>` as a CI runner would, in this test's state directory; SIGKILLs it after `timeoutMs` (then code is null). */
export function ecom(home: string, args: string[], timeoutMs = 60_000): Promise<Run> {
  return ecomWith(ciEnv(home), args, timeoutMs);
}

/**
 * `ecom <args>` with exactly `env`; SIGKILLed after `timeoutMs` (code null then). The
 * project's own CLI, or that of a copy of it at `project`, run in its directory.
 */
export function ecomWith(env: NodeJS.ProcessEnv, args: string[], timeoutMs: number, project = ROOT): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(project, 'bin', 'ecom.js'), ...args], { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * For a describe block that brings up one local system: its own state directory and
 * port offset (set before its tests), and `down --purge` after them.
 */
export function localSystemPerSuite(): { readonly home: string; readonly offset: number } {
  const suite = { home: '', offset: 0 };
  beforeAll(async () => {
    ensureBuilt();
    suite.home = newHome();
    suite.offset = await freeOffset();
  }, 180_000);
  afterAll(async () => {
    if (!suite.home) return;
    await ecom(suite.home, ['down', '--purge'], 90_000);
    rmSync(suite.home, { recursive: true, force: true });
  }, 120_000);
  return suite;
}

/** The ports a local system takes at its offset: the four services and the console (Prometheus and the broker's UI move when taken). */
const LOCAL_PORTS = [5001, 5002, 5003, 5004, 5005];

/**
 * A port offset in 20000-27000 (every port below the kernel's ephemeral range) whose
 * service and console ports are free now and reserved for this test process.
 */
export function freeOffset(): Promise<number> {
  return reservePortOffset(LOCAL_PORTS, { min: 20_000, max: 27_000 });
}

export const servicePortsAt = (offset: number) => [5001, 5002, 5003, 5004].map((p) => p + offset);

/** Alive and not a zombie (an exited process its parent has not reaped yet). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
}

/** `pid command` for messages. */
export function describePid(pid: number): string {
  try {
    return `${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').slice(0, 200)}`;
  } catch {
    return `${pid} (gone)`;
  }
}

/** The pid `status --json` shows for a local service (its runtime-specific detail). */
export function pidOf(service: ServiceStatus): number | undefined {
  return service.detail.kind === 'process' ? service.detail.pid : undefined;
}

/** Every pid the state file records (supervisor, services, dependencies). */
export function recordedPids(home: string): number[] {
  const file = join(home, 'state.json');
  if (!existsSync(file)) return [];
  const state = JSON.parse(readFileSync(file, 'utf8')) as {
    supervisor: { pid: number };
    services: Record<string, { process?: { pid: number } }>;
    postgres: { process?: { pid: number } };
    broker: { process?: { pid: number }; vm?: { pid: number } };
    prometheus: { process?: { pid: number } };
  };
  const pids = [
    state.supervisor.pid,
    ...Object.values(state.services).map((s) => s.process?.pid),
    state.postgres.process?.pid,
    state.broker.process?.pid,
    state.broker.vm?.pid,
    state.prometheus.process?.pid,
  ];
  return pids.filter((p): p is number => typeof p === 'number');
}

/** Polls `probe` (each poll runs the CLI, so not too often) until it returns a value; throws after `timeoutMs`. */
export const until = <T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> =>
  eventually(probe, timeoutMs, what, 250);

export function parseJson<T>(run: Run): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}
