import { chmodSync, closeSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { appendToLog, ensureLogsDir, openLogForAppend } from '../../../src/runtime/local/log-files.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'ecom-log-files-'));
  dirs.push(d);
  return d;
};
const mode = (path: string) => statSync(path).mode & 0o777;

describe('private log files', () => {
  it('creates the logs directory readable by its owner only, and new log files 0600', () => {
    const logs = join(tempDir(), 'state', 'logs');
    ensureLogsDir(logs);
    expect(mode(logs)).toBe(0o700);
    const fd = openLogForAppend(join(logs, 'order.log'));
    writeSync(fd, '{"msg":"order for ada@example.com"}\n');
    closeSync(fd);
    appendToLog(join(logs, 'postgres.log'), 'ready\n');
    expect(mode(join(logs, 'order.log'))).toBe(0o600);
    expect(mode(join(logs, 'postgres.log'))).toBe(0o600);
  });

  it('tightens a world-readable logs directory and its files left by an older version', () => {
    const logs = join(tempDir(), 'logs');
    mkdirSync(logs, { mode: 0o755 });
    chmodSync(logs, 0o755);
    writeFileSync(join(logs, 'catalog.log'), 'old\n', { mode: 0o644 });
    writeFileSync(join(logs, 'frontend.log'), 'old\n', { mode: 0o644 });
    chmodSync(join(logs, 'frontend.log'), 0o644);
    ensureLogsDir(logs);
    expect(mode(logs)).toBe(0o700);
    expect(mode(join(logs, 'catalog.log'))).toBe(0o600);
    closeSync(openLogForAppend(join(logs, 'frontend.log')));
    expect(mode(join(logs, 'frontend.log'))).toBe(0o600);
  });
});
