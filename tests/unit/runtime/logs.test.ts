import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { filterSince, lastLines, lineTime, mergeByTime, toLogLines } from '../../../src/core/log-merge.js';
import { readLogs } from '../../../src/runtime/local/logs.js';
import { REPLACED_NOTICE, TRUNCATED_NOTICE } from '../../../src/runtime/local/log-reader.js';
import type { LogLine } from '../../../src/runtime/types.js';

const pino = (time: string, msg: string, service = 'catalog') => JSON.stringify({ level: 'info', time, service, msg });
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const logDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'ecom-logs-test-'));
  dirs.push(d);
  return d;
};
const msgs = (lines: LogLine[]) => lines.map((l) => `${l.service}:${(JSON.parse(l.line) as { msg: string }).msg}`);

describe('log lines', () => {
  it('reads pino times as ISO text or epoch ms, and nothing from other lines', () => {
    expect(lineTime(pino('2026-01-01T00:00:01.000Z', 'a'))?.toISOString()).toBe('2026-01-01T00:00:01.000Z');
    expect(lineTime(JSON.stringify({ time: 1_767_225_601_000 }))?.getTime()).toBe(1_767_225_601_000);
    expect(lineTime('catalog: invalid environment: PORT is required')).toBeUndefined();
    expect(lineTime('{not json')).toBeUndefined();
  });

  it('merges services by time, stable on ties, untimed lines staying after their predecessor', () => {
    const catalog = toLogLines('catalog', [pino('2026-01-01T00:00:01Z', 'c1'), 'stack line', pino('2026-01-01T00:00:03Z', 'c3')]);
    const order = toLogLines('order', [pino('2026-01-01T00:00:00Z', 'o0'), pino('2026-01-01T00:00:01Z', 'o1'), pino('2026-01-01T00:00:04Z', 'o4')]);
    const merged = mergeByTime([catalog, order]);
    expect(merged.map((l) => (l.line.startsWith('{') ? msgs([l])[0] : l.line))).toEqual([
      'order:o0',
      'catalog:c1',
      'stack line',
      'order:o1',
      'catalog:c3',
      'order:o4',
    ]);
  });

  it('keeps lines at or after `since`, with their untimed continuation lines', () => {
    const lines = toLogLines('search', [pino('2026-01-01T00:00:01Z', 'old'), 'old detail', pino('2026-01-01T00:00:05Z', 'new'), 'new detail']);
    const kept = filterSince(lines, new Date('2026-01-01T00:00:05Z'));
    expect(kept.map((l) => l.line)).toEqual([lines[2]!.line, 'new detail']);
  });

  it('takes the last n lines, none for 0, all when not asked', () => {
    expect(lastLines([1, 2, 3], 2)).toEqual([2, 3]);
    expect(lastLines([1, 2, 3], 0)).toEqual([]);
    expect(lastLines([1, 2, 3], undefined)).toEqual([1, 2, 3]);
  });
});

describe('reading log files', () => {
  const fileFor = (dir: string) => (s: string) => join(dir, `${s}.log`);

  it('tails each service and merges them; a missing file is just empty', async () => {
    const dir = logDir();
    writeFileSync(join(dir, 'catalog.log'), [1, 2, 3].map((i) => pino(`2026-01-01T00:00:0${i * 2}Z`, `c${i}`)).join('\n') + '\n');
    writeFileSync(join(dir, 'order.log'), [1, 2, 3].map((i) => pino(`2026-01-01T00:00:0${i * 2 + 1}Z`, `o${i}`, 'order')).join('\n') + '\n');
    const lines: LogLine[] = [];
    for await (const l of readLogs(dir, fileFor(dir), { services: ['catalog', 'order', 'search'], follow: false, tail: 2 })) lines.push(l);
    expect(msgs(lines)).toEqual(['catalog:c2', 'order:o2', 'catalog:c3', 'order:o3']);
  });

  it('follows new lines, re-reads a truncated or rotated file from its start saying so, and ends on abort', async () => {
    const dir = logDir();
    const file = join(dir, 'catalog.log');
    writeFileSync(file, `${pino('2026-01-01T00:00:00Z', 'before')}\n`);
    const abort = new AbortController();
    const seen: string[] = [];
    const done = (async () => {
      for await (const l of readLogs(dir, fileFor(dir), { services: ['catalog'], follow: true, tail: 0, signal: abort.signal })) {
        seen.push(msgs([l])[0]!);
      }
    })();
    const waitFor = async (msg: string) => {
      const deadline = Date.now() + 5_000;
      while (!seen.includes(msg) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(seen).toContain(msg);
    };
    appendFileSync(file, `${pino('2026-01-01T00:00:01Z', 'appended')}\n`);
    await waitFor('catalog:appended');
    const split = `${pino('2026-01-01T00:00:02Z', 'half line')}\n`;
    appendFileSync(file, split.slice(0, 20));
    await new Promise((r) => setTimeout(r, 600));
    appendFileSync(file, split.slice(20));
    await waitFor('catalog:half line');
    truncateSync(file, 0);
    appendFileSync(file, `${pino('2026-01-01T00:00:03Z', 'after truncation')}\n`);
    await waitFor('catalog:after truncation');
    renameSync(file, `${file}.1`);
    writeFileSync(file, `${pino('2026-01-01T00:00:04Z', 'after rotation')}\n`);
    await waitFor('catalog:after rotation');
    abort.abort();
    await done;
    expect(seen).toEqual([
      'catalog:appended',
      'catalog:half line',
      `catalog:${TRUNCATED_NOTICE}`,
      'catalog:after truncation',
      `catalog:${REPLACED_NOTICE}`,
      'catalog:after rotation',
    ]);
  });
});
