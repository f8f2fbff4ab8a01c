import { describe, expect, it } from 'vitest';
import { prettyLine, runLogs } from '../../../src/cli/commands/logs.js';
import { EcomError } from '../../../src/core/errors.js';
import { createOutput } from '../../../src/cli/output.js';
import { NO_PAINT } from '../../../src/core/text.js';
import type { Endpoints } from '../../../src/core/system.js';
import type { LogLine, LogOptions, Runtime } from '../../../src/runtime/types.js';
import { sink } from './sink.js';

const ENDPOINTS: Endpoints = {
  services: { catalog: 'http://127.0.0.1:5001', search: 'http://127.0.0.1:5002', order: 'http://127.0.0.1:5003', frontend: 'http://127.0.0.1:5004' },
};

const TIME = '2030-01-02T03:04:05.000Z';
const catalogLine = JSON.stringify({ level: 'info', time: TIME, service: 'catalog', pid: 42, hostname: 'h', reqId: 'r-1', route: '/catalog', status: 200, msg: 'request done' });
const orderLine = JSON.stringify({ level: 50, time: TIME, service: 'order', msg: 'publish failed', err: { message: 'channel closed' }, reqId: 'r-2' });

/** A runtime whose logs are the given lines; records the options it was asked with. */
function fakeRuntime(lines: LogLine[], opts: { up?: boolean; follow?: 'forever' | 'ignore-signal' } = {}) {
  const asked: LogOptions[] = [];
  const runtime = {
    endpoints: async () => (opts.up === false ? undefined : ENDPOINTS),
    logs(options: LogOptions): AsyncIterable<LogLine> {
      asked.push(options);
      return (async function* () {
        for (const l of lines) if (options.services.includes(l.service)) yield l;
        if (opts.follow === 'forever') {
          // Honours the signal like a real follow.
          await new Promise<void>((resolve) => options.signal?.addEventListener('abort', () => resolve(), { once: true }));
        } else if (opts.follow === 'ignore-signal') {
          await new Promise<void>(() => {});
        }
      })();
    },
  } as unknown as Runtime;
  return { runtime, asked };
}

function outputs(isTTY: boolean) {
  const out = sink();
  const err = sink();
  const output = createOutput({ isTTY, env: { FORCE_COLOR: '0' }, stdout: out.stream, stderr: err.stream });
  return { output, out, err };
}

function clock(iso: string): string {
  const d = new Date(iso);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

describe('ecom logs', () => {
  it('shows readable lines on a TTY: time, service, level, message, then key=value with reqId first', async () => {
    const { runtime } = fakeRuntime([
      { service: 'catalog', line: catalogLine },
      { service: 'order', line: orderLine },
    ]);
    const { output, out } = outputs(true);
    const code = await runLogs({ cwd: '.', follow: false }, { runtime, output });
    expect(code).toBe(0);
    expect(out.text().split('\n')).toEqual([
      `${clock(TIME)} catalog  INFO  request done reqId=r-1 route=/catalog status=200`,
      `${clock(TIME)} order    ERROR publish failed reqId=r-2 err={"message":"channel closed"}`,
      '',
    ]);
  });

  it('prints the raw JSON lines without a TTY, prefixed by service when merged', async () => {
    const { runtime } = fakeRuntime([
      { service: 'catalog', line: catalogLine },
      { service: 'order', line: orderLine },
    ]);
    const merged = outputs(false);
    await runLogs({ cwd: '.', follow: false }, { runtime, output: merged.output });
    expect(merged.out.text()).toBe(`catalog  | ${catalogLine}\norder    | ${orderLine}\n`);

    const single = outputs(false);
    await runLogs({ cwd: '.', follow: false, service: 'order' }, { runtime, output: single.output });
    expect(single.out.text()).toBe(`${orderLine}\n`);
    expect(single.err.text()).toBe('');
  });

  it('asks the runtime for the named service, --since as a time and --tail', async () => {
    const { runtime, asked } = fakeRuntime([]);
    const now = () => new Date(TIME);
    await runLogs({ cwd: '.', follow: true, service: 'search', since: 600_000, tail: 5 }, { runtime, output: outputs(false).output, now });
    expect(asked[0]).toMatchObject({ services: ['search'], follow: true, tail: 5, since: new Date('2030-01-02T02:54:05.000Z') });
    await runLogs({ cwd: '.', follow: false }, { runtime, output: outputs(false).output });
    expect(asked[1]!.services).toEqual(['catalog', 'search', 'order', 'frontend']);
  });

  it('ends a follow cleanly with exit 0 when interrupted', async () => {
    const { runtime } = fakeRuntime([{ service: 'catalog', line: catalogLine }], { follow: 'forever' });
    const stop = new AbortController();
    const { output, out } = outputs(false);
    const running = runLogs({ cwd: '.', follow: true, service: 'catalog' }, { runtime, output, signal: stop.signal });
    setTimeout(() => stop.abort(), 50);
    await expect(running).resolves.toBe(0);
    expect(out.text()).toBe(`${catalogLine}\n`);
  });

  it('prefixes a cluster runtime\'s raw lines with their pod, after the service when merged', async () => {
    const lines: LogLine[] = [
      { service: 'catalog', line: catalogLine, pod: 'catalog-7d9f-x2k4p' },
      { service: 'order', line: orderLine, pod: 'order-5b6c-abcde' },
    ];
    const merged = outputs(false);
    await runLogs({ cwd: '.', follow: false }, { runtime: fakeRuntime(lines).runtime, output: merged.output });
    expect(merged.out.text().split('\n').filter(Boolean)).toEqual([`catalog  | [catalog-7d9f-x2k4p] ${catalogLine}`, `order    | [order-5b6c-abcde] ${orderLine}`]);
    const one = outputs(false);
    await runLogs({ cwd: '.', follow: false, service: 'order' }, { runtime: fakeRuntime(lines).runtime, output: one.output });
    expect(one.out.text().split('\n').filter(Boolean)).toEqual([`[order-5b6c-abcde] ${orderLine}`]);
  });

  it('ends on interrupt even when the runtime ignores the signal', async () => {
    const { runtime } = fakeRuntime([], { follow: 'ignore-signal' });
    const stop = new AbortController();
    const running = runLogs({ cwd: '.', follow: true }, { runtime, output: outputs(false).output, signal: stop.signal });
    setTimeout(() => stop.abort(), 50);
    await expect(running).resolves.toBe(0);
  });

  it('shows the logs of a system that is down (local keeps its files until --purge)', async () => {
    const { runtime } = fakeRuntime([{ service: 'catalog', line: catalogLine }], { up: false });
    const { output, out } = outputs(false);
    await expect(runLogs({ cwd: '.', follow: false, service: 'catalog' }, { runtime, output })).resolves.toBe(0);
    expect(out.text()).toBe(`${catalogLine}\n`);
  });

  it("passes on the runtime's error when it has no logs at all (exit 1, hint `ecom up`)", async () => {
    const runtime = {
      endpoints: async () => undefined,
      logs: () =>
        (async function* () {
          yield* [];
          throw new EcomError('nothing is running, so there are no logs to show', 'start the system with `ecom up`');
        })(),
    } as unknown as Runtime;
    const error = await runLogs({ cwd: '.', follow: false }, { runtime, output: outputs(false).output }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EcomError);
    expect(error).toMatchObject({ message: 'nothing is running, so there are no logs to show', hint: 'start the system with `ecom up`', exitCode: 1 });
  });

  it('asks the runtime for a dependency by name and for a --level', async () => {
    const { runtime, asked } = fakeRuntime([]);
    await runLogs({ cwd: '.', follow: false, service: 'postgres', level: 'warn' }, { runtime, output: outputs(false).output });
    expect(asked[0]).toMatchObject({ services: ['postgres'], level: 'warn' });
  });
});

describe('readable log lines', () => {
  it('keeps a line that is not JSON as it is, after the service', () => {
    const time = new Date(TIME);
    expect(prettyLine({ service: 'frontend', line: 'Error: boom', time }, NO_PAINT)).toBe(`${clock(TIME)} frontend Error: boom`);
  });

  it('names the pod after the service when a cluster runtime says which pod wrote the line', () => {
    const line = JSON.stringify({ level: 30, time: TIME, msg: 'request done' });
    expect(prettyLine({ service: 'catalog', line, pod: 'catalog-7d9f-x2k4p' }, NO_PAINT)).toBe(`${clock(TIME)} catalog  catalog-7d9f-x2k4p INFO  request done`);
  });

  it('quotes values with spaces and shows numeric pino levels by name', () => {
    const line = JSON.stringify({ level: 40, time: TIME, msg: 'slow', note: 'took a while' });
    expect(prettyLine({ service: 'search', line }, NO_PAINT)).toBe(`${clock(TIME)} search   WARN  slow note="took a while"`);
  });
});
