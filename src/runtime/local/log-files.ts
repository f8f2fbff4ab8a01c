/**
 * Log files of the local runtime hold customer names and emails (order logs), so
 * they are private like secrets.json and state.json: the logs directory is 0700 and
 * every file in it 0600, whatever the umask, including files an older ecom left.
 */
import { appendFileSync, chmodSync, fchmodSync, mkdirSync, openSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const LOGS_DIR_MODE = 0o700;
export const LOG_FILE_MODE = 0o600;

/** Creates the logs directory (0700) or tightens an existing one and the files in it. */
export function ensureLogsDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: LOGS_DIR_MODE });
  chmodSync(dir, LOGS_DIR_MODE);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile()) chmodSync(join(dir, entry.name), LOG_FILE_MODE);
  }
}

/** Opens a log file for appending, created or tightened to 0600; the caller closes the fd. */
export function openLogForAppend(file: string): number {
  const fd = openSync(file, 'a', LOG_FILE_MODE);
  try {
    fchmodSync(fd, LOG_FILE_MODE);
  } catch (err) {
    // Not ours to change (another owner): appending still works, so carry on.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
  }
  return fd;
}

/** Appends text to a log file, creating it 0600. */
export function appendToLog(file: string, text: string): void {
  appendFileSync(file, text, { mode: LOG_FILE_MODE });
}
