import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { TestProject } from 'vitest/node';
import { ensureBuilt } from './build.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin URL of a PostgreSQL server; each test file creates its own database on it. */
    adminDatabaseUrl: string;
  }
}

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const TSX_LOADER = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
const SERVER_SCRIPT = new URL('./test-postgres-process.ts', import.meta.url).pathname;

let child: ChildProcess | undefined;

/**
 * One PostgreSQL for the whole run: TEST_DATABASE_URL when set, otherwise an embedded
 * server of our own (never the machine's), in a child process so that no library of
 * the server's decides the test runner's exit status (see test-postgres-process.ts).
 */
export async function setup(project: TestProject): Promise<void> {
  ensureBuilt();
  const given = process.env.TEST_DATABASE_URL;
  if (given) {
    project.provide('adminDatabaseUrl', given);
    return;
  }
  child = spawn(process.execPath, ['--import', TSX_LOADER, SERVER_SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'] });
  const started = await firstLine(child);
  if (!started.url) {
    throw new Error(
      `cannot start the embedded PostgreSQL for tests (${started.error ?? 'no answer'}); ` +
        'set TEST_DATABASE_URL=postgres://user@127.0.0.1:5432/postgres to use a running server instead',
    );
  }
  project.provide('adminDatabaseUrl', started.url);
}

export async function teardown(): Promise<void> {
  const running = child;
  if (!running || running.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
  running.stdin?.end();
  const timer = setTimeout(() => running.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

function firstLine(proc: ChildProcess): Promise<{ url?: string; error?: string }> {
  return new Promise((resolve) => {
    const lines = createInterface({ input: proc.stdout! });
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      resolve({ error: `no answer within ${START_TIMEOUT_MS / 1000} s` });
    }, START_TIMEOUT_MS);
    const done = (value: { url?: string; error?: string }) => {
      clearTimeout(timer);
      lines.close();
      resolve(value);
    };
    lines.once('line', (line) => done(JSON.parse(line) as { url?: string; error?: string }));
    proc.once('exit', (code) => done({ error: `the server process exited (code ${code})` }));
  });
}
