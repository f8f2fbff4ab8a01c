import { describe, expect, it, vi } from 'vitest';
import { createOutput, detectColor, detectMode } from '../../../src/cli/output.js';
import { stripAnsi } from '../../../src/cli/render.js';
import { sink } from './sink.js';

const ANSI = '\u001b[';
const fixedClock = () => new Date('2030-01-02T03:04:05.678Z');

describe('choosing the output mode', () => {
  it('uses the live TTY mode only on a terminal without CI, NO_COLOR or TERM=dumb', () => {
    expect(detectMode({ isTTY: true, env: {} })).toBe('tty');
    expect(detectMode({ isTTY: false, env: {} })).toBe('plain');
    expect(detectMode({ isTTY: true, env: { CI: 'true' } })).toBe('plain');
    expect(detectMode({ isTTY: true, env: { CI: 'false' } })).toBe('tty');
    expect(detectMode({ isTTY: true, env: { NO_COLOR: '1' } })).toBe('plain');
    expect(detectMode({ isTTY: true, env: { TERM: 'dumb' } })).toBe('plain');
    expect(detectMode({ isTTY: true, env: {}, json: true })).toBe('json');
  });

  it('honours NO_COLOR over FORCE_COLOR, and FORCE_COLOR both ways', () => {
    expect(detectColor('tty', {})).toBe(true);
    expect(detectColor('tty', { FORCE_COLOR: '0' })).toBe(false);
    expect(detectColor('plain', {})).toBe(false);
    expect(detectColor('plain', { FORCE_COLOR: '1' })).toBe(true);
    expect(detectColor('plain', { FORCE_COLOR: '1', NO_COLOR: '1' })).toBe(false);
    expect(detectColor('json', { FORCE_COLOR: '3' })).toBe(false);
  });
});

describe('plain mode (CI, pipes)', () => {
  it('writes timestamped lines without ANSI codes to stderr and the result to stdout', async () => {
    const out = sink();
    const err = sink();
    const output = createOutput({ isTTY: false, env: {}, stdout: out.stream, stderr: err.stream, now: fixedClock });
    output.progress({ kind: 'start', task: 'postgres' });
    output.progress({ kind: 'waiting', task: 'postgres', reason: 'port 5432' });
    output.progress({ kind: 'done', task: 'postgres', detail: '1.2 s' });
    output.warn('no broker');
    output.info('hello');
    output.result('the result', { ignored: true });
    expect(err.text()).toBe(
      [
        '2030-01-02T03:04:05.678Z postgres: starting',
        '2030-01-02T03:04:05.678Z postgres: still waiting (port 5432)',
        '2030-01-02T03:04:05.678Z postgres: done (1.2 s)',
        '2030-01-02T03:04:05.678Z warning: no broker',
        '2030-01-02T03:04:05.678Z hello',
        '',
      ].join('\n'),
    );
    expect(out.text()).toBe('the result\n');
    expect(output.color).toBe(false);
    const paint = await output.paint();
    expect(paint.fail('x')).toBe('x');
  });

  it('NO_COLOR on a terminal gives the plain mode and no colour at all', async () => {
    const out = sink();
    const err = sink();
    const output = createOutput({ isTTY: true, env: { NO_COLOR: '1', FORCE_COLOR: '3' }, stdout: out.stream, stderr: err.stream });
    expect(output.mode).toBe('plain');
    expect(output.color).toBe(false);
    output.progress({ kind: 'done', task: 'catalog' });
    output.warn('careful');
    const paint = await output.paint();
    output.result(paint.ok('green?'), {});
    expect(err.text() + out.text()).not.toContain(ANSI);
  });
});

describe('json mode', () => {
  it('writes exactly one parseable document to stdout and everything else to stderr', () => {
    const out = sink();
    const err = sink();
    const output = createOutput({ json: true, isTTY: true, env: {}, stdout: out.stream, stderr: err.stream });
    output.progress({ kind: 'start', task: 'catalog' });
    output.info('human text');
    output.warn('a warning');
    output.print('a streamed line');
    output.result('human version', { ok: true, list: [1, 2] });
    expect(JSON.parse(out.text())).toEqual({ ok: true, list: [1, 2] });
    expect(err.text()).toContain('human text');
    expect(err.text()).toContain('a streamed line');
    expect(out.text()).not.toContain('human');
    expect(() => output.result('again', {})).toThrow(/twice/);
  });
});

describe('tty mode', () => {
  it('shows every task with its state on a live board and leaves the final state', async () => {
    const out = sink();
    const err = sink(60);
    const output = createOutput({ isTTY: true, env: { FORCE_COLOR: '1' }, stdout: out.stream, stderr: err.stream });
    expect(output.mode).toBe('tty');
    output.progress({ kind: 'start', task: 'postgres' });
    output.progress({ kind: 'start', task: 'broker' });
    output.progress({ kind: 'done', task: 'postgres', detail: 'port 54321' });
    output.progress({ kind: 'skip', task: 'prometheus', reason: 'not installed' });
    output.progress({ kind: 'waiting', task: 'up', reason: 'order' });
    await vi.waitFor(() => expect(stripAnsi(err.text())).toContain('✔ postgres (port 54321)'));
    output.info('a message above the board');
    output.progress({ kind: 'warn', task: 'broker', message: 'none found; orders wait in the outbox' });
    output.result('URLs', {});
    const screen = stripAnsi(err.text());
    const lastFrame = screen.slice(screen.lastIndexOf('a message above the board'));
    expect(lastFrame).toContain('✔ postgres (port 54321)');
    expect(lastFrame).toContain('⚠ broker (none found; orders wait in the outbox)');
    expect(lastFrame).toContain('↓ prometheus (not installed)');
    // Never finished: a plain mark, not a frozen spinner frame.
    expect(lastFrame).toMatch(/◼ up \(order, \d+s\)/);
    expect(err.text()).toContain(ANSI);
    expect(out.text()).toBe('URLs\n');
  });

  it('says on each waiting row why it waits and for how long, and leaves the overall summary to plain lines', async () => {
    const err = sink(80);
    let now = Date.parse('2026-12-01T08:00:00Z');
    const output = createOutput({ isTTY: true, env: {}, stdout: sink().stream, stderr: err.stream, now: () => new Date(now) });
    output.progress({ kind: 'start', task: 'broker' });
    output.progress({ kind: 'start', task: 'order' });
    output.progress({ kind: 'waiting', task: 'order', reason: 'starts when the broker answers' });
    output.progress({ kind: 'waiting', task: 'up', reason: 'broker (RabbitMQ node booting), order (starts when the broker answers)', overall: true });
    now += 12_000;
    output.progress({ kind: 'waiting', task: 'broker', reason: 'RabbitMQ node booting' });
    await vi.waitFor(() => expect(stripAnsi(err.text())).toContain('order (starts when the broker answers, 12s)'));
    now += 65_000;
    output.progress({ kind: 'done', task: 'order', detail: 'http://127.0.0.1:5003 ok' });
    output.endProgress();
    const screen = stripAnsi(err.text());
    const lastFrame = screen.slice(screen.lastIndexOf('\u001b[J') + 3);
    // The broker began waiting when it started, 77 s before: the time counts from then.
    expect(lastFrame).toContain('◼ broker (RabbitMQ node booting, 1m17s)');
    expect(lastFrame).toContain('✔ order (http://127.0.0.1:5003 ok)');
    expect(screen).not.toContain('up (');
    // Plain lines still say what is awaited overall.
    const plain = sink();
    createOutput({ isTTY: false, env: {}, stdout: sink().stream, stderr: plain.stream }).progress({ kind: 'waiting', task: 'up', reason: 'broker (RabbitMQ node booting)', overall: true });
    expect(plain.text()).toMatch(/ up: still waiting \(broker \(RabbitMQ node booting\)\)\n$/);
  });

  it('keeps board lines inside the terminal width so redraws do not break', async () => {
    const err = sink(40);
    const output = createOutput({ isTTY: true, env: {}, stdout: sink().stream, stderr: err.stream });
    output.progress({ kind: 'waiting', task: 'catalog', reason: 'x'.repeat(200) });
    await vi.waitFor(() => expect(err.text()).toContain('catalog'));
    output.endProgress();
    const lines = stripAnsi(err.text()).split('\n').flatMap((l) => l.split('\u001b[1F'));
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(39);
  });

  it('clears the board when asked, for commands that print the same list as their result', async () => {
    const err = sink();
    const output = createOutput({ isTTY: true, env: { FORCE_COLOR: '0' }, stdout: sink().stream, stderr: err.stream });
    output.progress({ kind: 'start', task: 'check one' });
    await vi.waitFor(() => expect(err.text()).toContain('check one'));
    output.endProgress({ clear: true });
    expect(err.text().endsWith('\u001b[1F\u001b[J')).toBe(true);
  });
});
