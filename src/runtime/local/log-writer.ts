/**
 * Capping the log files the local runtime's processes write. Every supervised process
 * writes its own log file through a descriptor it inherited (supervised.ts says why),
 * so the file cannot be renamed away under it: the writer would keep writing to the
 * renamed file. Rotation is therefore copy-and-truncate, as logrotate's `copytruncate`:
 * past LOG_ROTATE_BYTES the content is copied to `<name>.1` (replacing the previous
 * one) and the file truncated to zero, where the writer (O_APPEND) carries on. A long
 * running system keeps at most about twice the cap per part, plus what one check
 * interval adds. Readers notice the truncation and finish from `<name>.1` (log-reader.ts).
 *
 * The price: lines written between the last copied byte and the truncation are lost.
 * The copy is repeated until a read finds nothing new, so that window is one read and
 * one ftruncate, once per 20 MB.
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import { LOG_FILE_MODE } from './log-files.js';

export const LOG_ROTATE_BYTES = 20 * 1024 * 1024;
/** How often a supervised process's log size is checked. */
export const ROTATE_CHECK_MS = 5_000;
const COPY_CHUNK_BYTES = 256 * 1024;

/** Rotates `file` when it is larger than `maxBytes`; true when it did. Never throws. */
export function rotateIfOver(file: string, maxBytes = LOG_ROTATE_BYTES, onError: (message: string) => void = () => {}): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'r+');
  } catch {
    return false;
  }
  try {
    if (fstatSync(fd).size <= maxBytes) return false;
    copyThenTruncate(fd, file);
    return true;
  } catch (err) {
    onError(`cannot rotate ${file}: ${(err as Error).message}`);
    return false;
  } finally {
    closeSync(fd);
  }
}

/**
 * Copies to `<file>.1.tmp`, renames it to `<file>.1`, copies what came meanwhile, then
 * truncates: a reader that sees the truncation finds every line before it in `<file>.1`.
 */
function copyThenTruncate(fd: number, file: string): void {
  const temp = `${file}.1.tmp`;
  const copy = openSync(temp, 'w', LOG_FILE_MODE);
  try {
    const copied = copyFrom(fd, copy, 0);
    renameSync(temp, `${file}.1`);
    copyFrom(fd, copy, copied);
    ftruncateSync(fd, 0);
  } finally {
    closeSync(copy);
  }
}

/** Copies from `offset` until a read returns nothing; returns the offset reached. */
function copyFrom(source: number, target: number, offset: number): number {
  const buffer = Buffer.alloc(COPY_CHUNK_BYTES);
  for (;;) {
    const n = readSync(source, buffer, 0, buffer.length, offset);
    if (n === 0) return offset;
    for (let done = 0; done < n; ) done += writeSync(target, buffer, done, n - done);
    offset += n;
  }
}
