/**
 * The service log files the supervisor writes: whole lines only, and capped. When a
 * file would grow past LOG_ROTATE_BYTES it is renamed to `<name>.1` (replacing the
 * previous one) and a new file is started, so a long-running system keeps at most
 * about twice the cap per service. Readers follow by inode (log-reader.ts).
 */
import { closeSync, fstatSync, renameSync, writeSync } from 'node:fs';
import { openLogForAppend } from './log-files.js';

export const LOG_ROTATE_BYTES = 20 * 1024 * 1024;
/** A run this long without a newline is written as it is, so a partial line cannot grow without bound. */
const MAX_PENDING_BYTES = 1024 * 1024;
const NEWLINE = 0x0a;

export class RotatingLog {
  private fd: number | undefined;
  private size = 0;
  /** Set after a write failed (disk full, directory gone), so that is reported once. */
  private failed = false;

  constructor(
    readonly file: string,
    private readonly maxBytes = LOG_ROTATE_BYTES,
    private readonly onError: (message: string) => void = () => {},
  ) {}

  /** Appends `data` (whole lines), rotating first when it would pass the cap. Never throws. */
  write(data: Buffer): void {
    if (data.length === 0) return;
    try {
      if (this.fd === undefined) this.open();
      if (this.size > 0 && this.size + data.length > this.maxBytes) this.rotate();
      for (let done = 0; done < data.length; ) done += writeSync(this.fd!, data, done, data.length - done);
      this.size += data.length;
      this.failed = false;
    } catch (err) {
      if (!this.failed) this.onError(`cannot write ${this.file}: ${(err as Error).message}`);
      this.failed = true;
      this.close();
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private open(): void {
    this.fd = openLogForAppend(this.file);
    this.size = fstatSync(this.fd).size;
  }

  /** A rename that fails leaves the file growing rather than losing lines. */
  private rotate(): void {
    this.close();
    try {
      renameSync(this.file, `${this.file}.1`);
    } catch (err) {
      this.onError(`cannot rotate ${this.file}: ${(err as Error).message}`);
    }
    this.open();
  }
}

/** Cuts a byte stream into whole lines, so two streams into one file never mix inside a line. */
export class LineBuffer {
  private pending: Buffer = Buffer.alloc(0);

  /** The complete lines in `chunk` plus what came before it; the rest waits. */
  push(chunk: Buffer): Buffer {
    const data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const end = data.lastIndexOf(NEWLINE);
    if (end < 0 && data.length < MAX_PENDING_BYTES) {
      this.pending = data;
      return Buffer.alloc(0);
    }
    const cut = end < 0 ? data.length : end + 1;
    this.pending = Buffer.from(data.subarray(cut));
    return data.subarray(0, cut);
  }

  /** What is left at the end of the stream, ended with a newline. */
  flush(): Buffer {
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    if (rest.length === 0) return rest;
    return rest[rest.length - 1] === NEWLINE ? rest : Buffer.concat([rest, Buffer.from('\n')]);
  }
}
