/**
 * `ecom --help` and `--version` write straight to descriptor 1 (src/cli/direct-output.ts)
 * instead of through process.stdout: the text must arrive whole wherever stdout goes,
 * and a reader that went away must not turn into a stack trace.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeOutDirect } from '../../../src/cli/direct-output.js';
import { ensureBuilt } from '../../helpers/build.js';
import { cleanEnv, ROOT, runCli } from '../../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ecom-direct-output-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeOutDirect', () => {
  it('writes a text larger than a pipe buffer whole to a file', () => {
    const file = join(dir, 'big.txt');
    const fd = openSync(file, 'w');
    const text = 'ünïcode line\n'.repeat(20_000);
    writeOutDirect(text, fd);
    closeSync(fd);
    expect(readFileSync(file, 'utf8')).toBe(text);
  });
});

describe('ecom --help through descriptor 1', () => {
  it('a file gets the same help as a pipe, wrapped at 80 columns', () => {
    ensureBuilt();
    const piped = runCli(['--help']);
    const file = join(dir, 'help.txt');
    const fd = openSync(file, 'w');
    const result = spawnSync(process.execPath, [`${ROOT}bin/ecom.js`, '--help'], { env: cleanEnv(), stdio: ['ignore', fd, 'pipe'] });
    closeSync(fd);
    expect(result.status).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).toBe(piped.stdout);
    expect(text).toContain('Usage: ecom');
    expect(Math.max(...text.split('\n').map((l) => l.length))).toBeLessThanOrEqual(80);
  });

  it('a reader gone before the help is written: exit 0, nothing on stderr', async () => {
    ensureBuilt();
    const child = spawn(process.execPath, [`${ROOT}bin/ecom.js`, '--help'], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  }, 30_000);
});
