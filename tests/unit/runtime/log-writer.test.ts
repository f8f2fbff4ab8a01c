import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ServiceLogCursor, TRUNCATED_NOTICE } from '../../../src/runtime/local/log-reader.js';
import { rotateIfOver } from '../../../src/runtime/local/log-writer.js';
import { SupervisedProcess } from '../../../src/runtime/local/supervised.js';
import type { LogLine } from '../../../src/runtime/types.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'ecom-log-writer-'));
  dirs.push(d);
  return d;
};
const line = (i: number) => `${JSON.stringify({ level: 'info', time: '2026-01-01T00:00:00.000Z', service: 'catalog', msg: `m${i}` })}\n`;
const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);
const msgOf = (l: string) => (JSON.parse(l) as { msg: string }).msg;

function drain(cursor: ServiceLogCursor, into: LogLine[]): void {
  for (let more = true; more; ) {
    const read = cursor.read();
    into.push(...read.lines);
    more = read.more;
  }
}

describe('capped logs (copy and truncate)', () => {
  it('leaves a file under the cap alone', () => {
    const file = join(tempDir(), 'catalog.log');
    appendFileSync(file, line(0));
    expect(rotateIfOver(file, 1_000)).toBe(false);
    expect(existsSync(`${file}.1`)).toBe(false);
    expect(rotateIfOver(join(tempDir(), 'missing.log'), 1_000)).toBe(false);
  });

  it('copies a file past the cap to .1 (replacing the old one) and truncates it in place, both private', () => {
    const file = join(tempDir(), 'catalog.log');
    appendFileSync(file, 'an older rotation\n', { mode: 0o600 });
    expect(rotateIfOver(file, 1)).toBe(true);
    for (let i = 0; i < 20; i++) appendFileSync(file, line(i));
    const inode = statSync(file).ino;
    expect(rotateIfOver(file, 1_000)).toBe(true);
    expect(statSync(file).size).toBe(0);
    // The same file (a writer holding it keeps writing into it), not a new one.
    expect(statSync(file).ino).toBe(inode);
    expect(lines(`${file}.1`).map(msgOf)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
    expect(existsSync(`${file}.1.tmp`)).toBe(false);
    expect(statSync(`${file}.1`).mode & 0o777).toBe(0o600);
  });

  it('a follower loses no line across rotations: what it had not read yet comes from .1', () => {
    const file = join(tempDir(), 'catalog.log');
    appendFileSync(file, line(0));
    const cursor = new ServiceLogCursor('catalog', file);
    const seen: LogLine[] = [...cursor.tail(10)];
    for (let i = 1; i < 30; i++) {
      appendFileSync(file, line(i));
      rotateIfOver(file, 600);
      if (i % 4 === 0) drain(cursor, seen);
    }
    drain(cursor, seen);
    cursor.close();
    const msgs = seen.map((l) => msgOf(l.line));
    expect(msgs.filter((m) => m !== TRUNCATED_NOTICE)).toEqual(Array.from({ length: 30 }, (_, i) => `m${i}`));
    expect(msgs.filter((m) => m === TRUNCATED_NOTICE).length).toBeGreaterThanOrEqual(2);
  });
});

describe("a supervised process's own log", () => {
  it('is written by the child itself, so it keeps every line whoever reads it; rotation runs while it writes', async () => {
    const file = join(tempDir(), 'chatty.log');
    const proc = new SupervisedProcess({
      name: 'chatty',
      command: process.execPath,
      args: ['-e', 'let i = 0; const t = setInterval(() => { console.log(JSON.stringify({ msg: "m" + i })); if (++i === 400) { clearInterval(t); } }, 1)'],
      env: process.env,
      logFile: file,
      rotateBytes: 4 * 1024,
      rotateCheckMs: 20,
      markers: ['chatty'],
      onChange: () => {},
      log: () => {},
    });
    proc.start();
    const deadline = Date.now() + 10_000;
    while (!proc.lastExit && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await proc.stop(1_000);
    expect(proc.lastExit?.code).toBe(0);
    expect(existsSync(`${file}.1`), 'rotated at least once').toBe(true);
    const kept = [...lines(`${file}.1`), ...lines(file)]
      .map((l) => JSON.parse(l) as { msg: string; ecom?: string })
      .filter((r) => r.ecom === undefined)
      .map((r) => r.msg);
    expect(kept.at(-1)).toBe('m399');
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => `m${400 - kept.length + i}`));
  });
});
