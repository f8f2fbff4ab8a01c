/**
 * Reading log files in bounded chunks: the last n lines by reading backwards from the
 * end, new lines forwards a chunk at a time, and a cursor that follows one service's
 * file across truncation and replacement (rotation). After a replacement it drains the
 * old file to its end through the descriptor it holds, then re-attaches to the new
 * file and says so in the stream. After a truncation (a copy-and-truncate rotation) it
 * reads what it missed from `<file>.1` and starts over at the top.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import type { LogLine } from '../types.js';
import { levelFilter, type LogLevel } from '../../core/log-level.js';
import { lastLines, noticeLine, sinceFilter, toLogLines, type LogSource } from '../../core/log-merge.js';

export const READ_CHUNK_BYTES = 64 * 1024;
/** A run this long without a newline is cut into a line of its own, so memory stays bounded. */
export const MAX_LINE_BYTES = 1024 * 1024;

export const REPLACED_NOTICE = 'log file replaced (rotated or recreated); re-attached to the new file';
export const TRUNCATED_NOTICE = 'log file truncated (rotated: copied to .1); reading it again from its start';

const NEWLINE = 0x0a;

export interface Chunk {
  lines: string[];
  /** Where the next read starts: just after the last complete line returned. */
  offset: number;
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  const n = readSync(fd, buffer, 0, length, position);
  return buffer.subarray(0, n);
}

function splitLines(data: Buffer): string[] {
  return data.toString('utf8').split('\n');
}

/**
 * Complete lines from `offset`, reading about `maxBytes` (more only to finish a line,
 * up to MAX_LINE_BYTES). A trailing partial line waits for its newline, unless `final`
 * (the file will not grow any more).
 */
export function readLinesAt(fd: number, offset: number, maxBytes = READ_CHUNK_BYTES, final = false): Chunk {
  const size = fstatSync(fd).size;
  let want = Math.min(maxBytes, size - offset);
  while (want > 0) {
    const data = readAt(fd, offset, want);
    if (data.length === 0) break;
    const end = data.lastIndexOf(NEWLINE);
    if (end >= 0) return { lines: splitLines(data.subarray(0, end)), offset: offset + end + 1 };
    const atEnd = offset + data.length >= size;
    if (atEnd && !final) break;
    if (atEnd || data.length >= MAX_LINE_BYTES) return { lines: [data.toString('utf8')], offset: offset + data.length };
    want = Math.min(MAX_LINE_BYTES, size - offset);
  }
  return { lines: [], offset };
}

/**
 * The last `n` complete lines, reading backwards a chunk at a time until there are
 * enough, and the offset just after them (a trailing partial line is left to follow).
 */
export function tailLinesAt(fd: number, n: number): Chunk {
  let position = fstatSync(fd).size;
  let end = -1;
  let newlines = 0;
  const parts: Buffer[] = [];
  while (position > 0 && newlines <= n) {
    const length = Math.min(READ_CHUNK_BYTES, position);
    position -= length;
    let data = readAt(fd, position, length);
    if (end < 0) {
      const last = data.lastIndexOf(NEWLINE);
      if (last < 0) continue;
      end = position + last + 1;
      data = data.subarray(0, last + 1);
    }
    parts.unshift(data);
    newlines += countNewlines(data);
  }
  if (end < 0) return { lines: [], offset: 0 };
  const lines = splitLines(Buffer.concat(parts)).slice(0, -1);
  // Unless the file was read from its start, the first line may be cut: it only counts the newline.
  if (position > 0) lines.shift();
  return { lines: n === 0 ? [] : lines.slice(-n), offset: end };
}

function countNewlines(data: Buffer): number {
  let count = 0;
  for (let i = data.indexOf(NEWLINE); i >= 0; i = data.indexOf(NEWLINE, i + 1)) count += 1;
  return count;
}

export interface CursorRead {
  lines: LogLine[];
  /** More is waiting: read again before sleeping. */
  more: boolean;
}

/** One service's (or dependency's) log file, followed by descriptor and inode. */
export class ServiceLogCursor {
  private fd: number | undefined;
  private ino: number | undefined;
  private offset = 0;
  /** The path names another file now: drain the descriptor to its end, then switch. */
  private replaced = false;
  /** The file we followed went away: say so when a new one is attached. */
  private lost = false;
  private readonly keepSince: (lines: LogLine[]) => LogLine[];
  private readonly leveled: boolean;

  constructor(
    readonly service: LogSource,
    private readonly file: string,
    since?: Date,
    level?: LogLevel,
  ) {
    const afterSince = sinceFilter(since);
    const atLevel = levelFilter(level);
    this.keepSince = (lines) => afterSince(lines).filter(atLevel);
    this.leveled = level !== undefined;
    this.attach();
  }

  /** The last `n` lines (after `since`, at the level); following continues after them. */
  tail(n: number): LogLine[] {
    if (this.fd === undefined) return [];
    // Which lines pass a level is known only by reading them: keep the last n of the whole file.
    if (this.leveled) return lastLines([...this.stream()], n);
    const chunk = tailLinesAt(this.fd, n);
    this.offset = chunk.offset;
    return this.keepSince(toLogLines(this.service, chunk.lines));
  }

  /** Every line from the current position to the end, a chunk at a time. */
  *stream(): Generator<LogLine> {
    for (;;) {
      const read = this.read();
      yield* read.lines;
      if (!read.more) return;
    }
  }

  /** The next chunk of new lines, with a notice line where the file was truncated or replaced. */
  read(maxBytes = READ_CHUNK_BYTES): CursorRead {
    const out: LogLine[] = [];
    if (this.fd === undefined && !this.attach(out)) return { lines: out, more: false };
    const fd = this.fd!;
    const size = fstatSync(fd).size;
    if (size < this.offset) {
      out.push(...this.keepSince(toLogLines(this.service, rotatedRest(this.file, this.offset))));
      this.offset = 0;
      out.push(noticeLine(this.service, TRUNCATED_NOTICE, 'warn'));
    }
    const chunk = readLinesAt(fd, this.offset, maxBytes, this.replaced);
    this.offset = chunk.offset;
    out.push(...this.keepSince(toLogLines(this.service, chunk.lines)));
    if (chunk.lines.length > 0 && chunk.offset < size) return { lines: out, more: true };
    if (!this.replaced) {
      // Read once more after seeing the replacement: the writer may have added lines to the old file before it moved.
      if (inode(this.file) === this.ino) return { lines: out, more: false };
      this.replaced = true;
      return { lines: out, more: true };
    }
    this.detach();
    this.lost = true;
    return { lines: out, more: this.attach(out) };
  }

  close(): void {
    this.detach();
  }

  /** Opens the file at its start; after a loss, adds the re-attached notice to `out`. */
  private attach(out?: LogLine[]): boolean {
    try {
      this.fd = openSync(this.file, 'r');
    } catch {
      return false;
    }
    this.ino = fstatSync(this.fd).ino;
    this.offset = 0;
    this.replaced = false;
    if (this.lost && out) out.push(noticeLine(this.service, REPLACED_NOTICE));
    this.lost = false;
    return true;
  }

  private detach(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.ino = undefined;
  }
}

/**
 * After a copy-and-truncate rotation (log-writer.ts), the lines a follower had not read
 * yet are in `<file>.1` past the offset it had reached: read them from there.
 */
function rotatedRest(file: string, offset: number): string[] {
  let fd: number;
  try {
    fd = openSync(`${file}.1`, 'r');
  } catch {
    return [];
  }
  try {
    if (fstatSync(fd).size <= offset) return [];
    const lines: string[] = [];
    for (let at = offset; ; ) {
      const chunk = readLinesAt(fd, at, READ_CHUNK_BYTES, true);
      if (chunk.offset === at) return lines;
      lines.push(...chunk.lines);
      at = chunk.offset;
    }
  } finally {
    closeSync(fd);
  }
}

function inode(file: string): number | undefined {
  try {
    return statSync(file).ino;
  } catch {
    return undefined;
  }
}
