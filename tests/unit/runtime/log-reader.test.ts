import { appendFileSync, closeSync, mkdtempSync, openSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MAX_LINE_BYTES,
  READ_CHUNK_BYTES,
  REPLACED_NOTICE,
  ServiceLogCursor,
  TRUNCATED_NOTICE,
  readLinesAt,
  tailLinesAt,
} from '../../../src/runtime/local/log-reader.js';
import { readLogs } from '../../../src/runtime/local/logs.js';
import { mergeStreams, toLogLines } from '../../../src/core/log-merge.js';
import type { LogLine } from '../../../src/runtime/types.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const logFile = () => {
  const d = mkdtempSync(join(tmpdir(), 'ecom-log-reader-'));
  dirs.push(d);
  return join(d, 'catalog.log');
};
const pino = (msg: string, time = '2026-01-01T00:00:00.000Z') => JSON.stringify({ level: 'info', time, service: 'catalog', msg });
const text = (lines: LogLine[]) => lines.map((l) => (JSON.parse(l.line) as { msg: string }).msg);

/** Reads until the cursor has nothing more right now. */
function drain(cursor: ServiceLogCursor): LogLine[] {
  const out: LogLine[] = [];
  for (let i = 0; i < 1_000; i++) {
    const read = cursor.read();
    out.push(...read.lines);
    if (!read.more) return out;
  }
  throw new Error('the cursor never settled');
}

function withFd<T>(file: string, use: (fd: number) => T): T {
  const fd = openSync(file, 'r');
  try {
    return use(fd);
  } finally {
    closeSync(fd);
  }
}

describe('following one log file', () => {
  it('drains lines written to the old file before it was rotated, then says it re-attached', () => {
    const file = logFile();
    writeFileSync(file, `${pino('seen at start')}\n`);
    const cursor = new ServiceLogCursor('catalog', file);
    expect(text(cursor.tail(10))).toEqual(['seen at start']);
    appendFileSync(file, `${pino('written just before rotation')}\n`);
    renameSync(file, `${file}.1`);
    writeFileSync(file, `${pino('first in the new file')}\n`);
    const lines = drain(cursor);
    cursor.close();
    expect(text(lines)).toEqual(['written just before rotation', REPLACED_NOTICE, 'first in the new file']);
    const notice = JSON.parse(lines[1]!.line) as Record<string, unknown>;
    expect(notice).toMatchObject({ level: 'info', service: 'catalog', ecom: 'logs' });
    expect(lines[1]!.time).toBeUndefined();
  });

  it('says when the file was truncated and reads it again from its start', () => {
    const file = logFile();
    writeFileSync(file, `${pino('old one')}\n${pino('old two')}\n`);
    const cursor = new ServiceLogCursor('catalog', file);
    cursor.tail(0);
    truncateSync(file, 0);
    appendFileSync(file, `${pino('after truncation')}\n`);
    const lines = drain(cursor);
    cursor.close();
    expect(text(lines)).toEqual([TRUNCATED_NOTICE, 'after truncation']);
    expect((JSON.parse(lines[0]!.line) as { level: string }).level).toBe('warn');
  });

  it('re-attaches, saying so, when a deleted log file comes back; a file that appears late is attached silently', () => {
    const file = logFile();
    const cursor = new ServiceLogCursor('catalog', file);
    expect(drain(cursor)).toEqual([]);
    writeFileSync(file, `${pino('first ever')}\n`);
    expect(text(drain(cursor))).toEqual(['first ever']);
    rmSync(file);
    expect(drain(cursor)).toEqual([]);
    writeFileSync(file, `${pino('back again')}\n`);
    expect(text(drain(cursor))).toEqual([REPLACED_NOTICE, 'back again']);
    cursor.close();
  });

  it('keeps a line without a time with the kept line before it, across reads', () => {
    const file = logFile();
    writeFileSync(file, `${pino('old', '2026-01-01T00:00:00Z')}\n`);
    const cursor = new ServiceLogCursor('catalog', file, new Date('2026-01-01T00:00:05Z'));
    expect(cursor.tail(5)).toEqual([]);
    appendFileSync(file, `${pino('new', '2026-01-01T00:00:06Z')}\n`);
    expect(text(drain(cursor))).toEqual(['new']);
    appendFileSync(file, 'a stack line in a later read\n');
    expect(drain(cursor).map((l) => l.line)).toEqual(['a stack line in a later read']);
    cursor.close();
  });
});

describe('reading in bounded chunks', () => {
  it('reads the last line of a 5 GiB log without reading the file', async () => {
    const file = logFile();
    // Sparse: takes no disk, but a reader that loads the whole file cannot even allocate it.
    writeFileSync(file, '');
    truncateSync(file, 5 * 1024 ** 3);
    appendFileSync(file, `\n${pino('second to last')}\n${pino('last')}\n`);
    const lines: LogLine[] = [];
    for await (const l of readLogs(dirname(file), () => file, { services: ['catalog'], follow: false, tail: 1 })) lines.push(l);
    expect(text(lines)).toEqual(['last']);
  });

  it('takes the last n complete lines and leaves a trailing partial line to be followed', () => {
    const file = logFile();
    const body = Array.from({ length: 5_000 }, (_, i) => `line ${i}`).join('\n');
    writeFileSync(file, `${body}\npartial`);
    withFd(file, (fd) => {
      const tail = tailLinesAt(fd, 3);
      expect(tail.lines).toEqual(['line 4997', 'line 4998', 'line 4999']);
      expect(tail.offset).toBe(body.length + 1);
      expect(tailLinesAt(fd, 10_000).lines).toHaveLength(5_000);
      expect(tailLinesAt(fd, 0)).toEqual({ lines: [], offset: body.length + 1 });
    });
    writeFileSync(file, 'no newline yet');
    withFd(file, (fd) => expect(tailLinesAt(fd, 5)).toEqual({ lines: [], offset: 0 }));
  });

  it('reads forwards at most a chunk at a time, never splitting a line, and streams a long file whole', () => {
    const file = logFile();
    const lines = Array.from({ length: 20_000 }, (_, i) => pino(`n${i}`));
    writeFileSync(file, `${lines.join('\n')}\n`);
    withFd(file, (fd) => {
      const first = readLinesAt(fd, 0, 1_000);
      expect(first.offset).toBeLessThanOrEqual(1_000);
      expect(first.lines).toEqual(lines.slice(0, first.lines.length));
      expect(first.offset).toBe(first.lines.reduce((n, l) => n + l.length + 1, 0));
    });
    expect(lines.join('\n').length).toBeGreaterThan(10 * READ_CHUNK_BYTES);
    const cursor = new ServiceLogCursor('catalog', file);
    expect([...cursor.stream()].map((l) => l.line)).toEqual(lines);
    cursor.close();
  });

  it('cuts a run without newlines at MAX_LINE_BYTES and keeps a partial line until it ends, unless final', () => {
    const file = logFile();
    writeFileSync(file, `${'x'.repeat(MAX_LINE_BYTES + 10)}\nhalf`);
    withFd(file, (fd) => {
      const cut = readLinesAt(fd, 0);
      expect(cut.lines.map((l) => l.length)).toEqual([MAX_LINE_BYTES]);
      const rest = readLinesAt(fd, cut.offset);
      expect(rest.lines).toEqual(['x'.repeat(10)]);
      expect(readLinesAt(fd, rest.offset)).toEqual({ lines: [], offset: rest.offset });
      expect(readLinesAt(fd, rest.offset, READ_CHUNK_BYTES, true).lines).toEqual(['half']);
    });
  });

  it("merges streams by time and keeps each service's own order", () => {
    const catalog = toLogLines('catalog', [pino('c late', '2026-01-01T00:00:05Z'), pino('c early', '2026-01-01T00:00:01Z')]);
    const order = toLogLines('order', [pino('o mid', '2026-01-01T00:00:03Z')]);
    expect(text([...mergeStreams([catalog, order])])).toEqual(['o mid', 'c late', 'c early']);
  });
});
