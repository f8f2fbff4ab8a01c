import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPLACED_NOTICE, ServiceLogCursor } from '../../../src/runtime/local/log-reader.js';
import { LineBuffer, RotatingLog } from '../../../src/runtime/local/log-writer.js';
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

describe('capped service logs', () => {
  it('renames the log to .log.1 when it would pass the cap, keeping one old file, both private', () => {
    const file = join(tempDir(), 'catalog.log');
    const log = new RotatingLog(file, 1_000);
    for (let i = 0; i < 40; i++) log.write(Buffer.from(line(i)));
    log.close();
    expect(statSync(file).size).toBeLessThanOrEqual(1_000);
    expect(statSync(`${file}.1`).size).toBeLessThanOrEqual(1_000);
    expect(existsSync(`${file}.2`)).toBe(false);
    const kept = [...lines(`${file}.1`), ...lines(file)];
    // Only whole lines, in order, ending with the newest.
    expect(kept.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(Array.from({ length: kept.length }, (_, i) => `m${40 - kept.length + i}`));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(`${file}.1`).mode & 0o777).toBe(0o600);
  });

  it('loses no line for a follower that reads between writes, across several rotations', () => {
    const file = join(tempDir(), 'catalog.log');
    const log = new RotatingLog(file, 600);
    log.write(Buffer.from(line(0)));
    const cursor = new ServiceLogCursor('catalog', file);
    const seen: LogLine[] = [...cursor.tail(10)];
    for (let i = 1; i < 30; i++) {
      log.write(Buffer.from(line(i)));
      if (i % 3 === 0) for (let more = true; more; ) {
        const read = cursor.read();
        seen.push(...read.lines);
        more = read.more;
      }
    }
    for (let more = true; more; ) {
      const read = cursor.read();
      seen.push(...read.lines);
      more = read.more;
    }
    cursor.close();
    log.close();
    const msgs = seen.map((l) => (JSON.parse(l.line) as { msg: string }).msg);
    expect(msgs.filter((m) => m !== REPLACED_NOTICE)).toEqual(Array.from({ length: 30 }, (_, i) => `m${i}`));
    expect(msgs.filter((m) => m === REPLACED_NOTICE).length).toBeGreaterThanOrEqual(3);
  });

  it('passes only whole lines on, so stdout and stderr never mix inside a line', () => {
    const buffer = new LineBuffer();
    expect(buffer.push(Buffer.from('{"msg":"a"}\n{"ms')).toString()).toBe('{"msg":"a"}\n');
    expect(buffer.push(Buffer.from('g":"b"')).toString()).toBe('');
    expect(buffer.push(Buffer.from('}\n')).toString()).toBe('{"msg":"b"}\n');
    buffer.push(Buffer.from('no newline at exit'));
    expect(buffer.flush().toString()).toBe('no newline at exit\n');
    expect(buffer.flush().length).toBe(0);
  });

  it("rotates a supervised process's log while it writes, whole lines in order", async () => {
    const file = join(tempDir(), 'chatty.log');
    const proc = new SupervisedProcess({
      name: 'chatty',
      command: process.execPath,
      args: ['-e', 'for (let i = 0; i < 2000; i++) console.log(JSON.stringify({ msg: "m" + i }))'],
      env: process.env,
      logFile: file,
      rotateBytes: 16 * 1024,
      markers: ['chatty'],
      onChange: () => {},
      log: () => {},
    });
    proc.start();
    const deadline = Date.now() + 10_000;
    while (!proc.lastExit && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await proc.stop(1_000);
    expect(proc.lastExit?.code).toBe(0);
    // Its own lines only: the supervisor may have noted the exit before stop() came.
    const kept = [...lines(`${file}.1`), ...lines(file)]
      .map((l) => JSON.parse(l) as { msg: string; ecom?: string })
      .filter((r) => r.ecom === undefined)
      .map((r) => r.msg);
    expect(kept.at(-1)).toBe('m1999');
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => `m${2000 - kept.length + i}`));
    expect(statSync(file).size).toBeLessThanOrEqual(16 * 1024);
  });
});
