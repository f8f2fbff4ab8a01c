/**
 * Bad usage as a user sees it: the real CLI as a child process, exit code 2, one line
 * of what is wrong plus one line of what to do, never a stack trace.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { ensureBuilt } from '../../helpers/build.js';
import { cleanEnv, ROOT, runCli } from '../../helpers/cli.js';

const HINT = '  hint: run `ecom --help` (or `ecom <command> --help`) for usage';

function expectUsageError(args: string[], message: string | RegExp) {
  const result = runCli(args);
  expect(result.status).toBe(2);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(typeof message === 'string' ? new RegExp(`^error: ${escape(message)}$`) : message);
  expect(lines[1]).toBe(HINT);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  return lines[0]!;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('bad usage', () => {
  it('an unknown command exits 2 with one line and a hint', () => {
    expectUsageError(['nosuch'], "unknown command 'nosuch'");
  });

  it('an unknown option exits 2', () => {
    expectUsageError(['doctor', '--bogus'], "unknown option '--bogus'");
  });

  it('a --timeout that is not a duration exits 2 and shows the accepted forms', () => {
    expectUsageError(['smoke', '--timeout', 'abc'], /^error: option '--timeout <duration>' argument 'abc' is invalid\. "abc" is not a duration; use e\.g\. 90s, 10m or 1h$/);
  });

  it('an unknown service close to a known one suggests it, in one sentence, wherever a service is named', () => {
    expectUsageError(['logs', 'ordr'], "unknown service 'ordr'; did you mean order?");
    expectUsageError(['logs', 'Search'], "unknown service 'Search'; did you mean search?");
    expectUsageError(['build', 'catalog', 'fronted'], "unknown service 'fronted'; did you mean frontend?");
  });

  it('a negative --port-offset says it must not be negative', () => {
    for (const args of [['up', '--port-offset', '-5'], ['up', '--port-offset=-5']]) {
      expectUsageError(args, '--port-offset must not be negative (got -5); ports are 5001-5004 plus the offset');
    }
  });

  it('a mistyped command or option is answered with the nearest one', () => {
    expectUsageError(['staus'], "unknown command 'staus' (Did you mean status?)");
    expectUsageError(['status', '--jsno'], "unknown option '--jsno' (Did you mean --json?)");
  });

  it('an unknown service for logs exits 2 and lists the valid names, dependencies included', () => {
    expectUsageError(['logs', 'nosuch'], "unknown service 'nosuch'; valid services: catalog, search, order, frontend, postgres, broker, prometheus, supervisor");
  });
});

describe('help and version', () => {
  it('--version prints the version and exits 0', () => {
    const result = runCli(['--version']);
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('--help lists every command', () => {
    const result = runCli(['--help']);
    expect(result.status).toBe(0);
    for (const command of ['up', 'status', 'logs', 'smoke', 'down', 'doctor']) expect(result.stdout).toContain(command);
  });
});

describe('output modes as a process', () => {
  it('--json prints exactly one JSON document on stdout', () => {
    const result = runCli(['doctor', '--json']);
    expect([0, 3]).toContain(result.status);
    const doc = JSON.parse(result.stdout) as { tools: unknown[] };
    expect(doc.tools.length).toBeGreaterThan(0);
  });

  it('--json still prints one JSON document on stdout when the command fails', () => {
    const result = runCli(['smoke', '--json', '--timeout', 'abc']);
    expect(result.status).toBe(2);
    const doc = JSON.parse(result.stdout) as { ok: boolean; error: { message: string; hint: string; exitCode: number } };
    expect(doc.ok).toBe(false);
    expect(doc.error.exitCode).toBe(2);
    expect(doc.error.message).toContain('is not a duration');
  });

  it('NO_COLOR wins over FORCE_COLOR: no escape codes anywhere', () => {
    const result = runCli(['doctor'], { env: cleanEnv({ NO_COLOR: '1', FORCE_COLOR: '1' }) });
    expect(result.stdout).toContain('TOOL');
    expect(result.stdout + result.stderr).not.toContain('\u001b[');
  });
});

describe('output into a pipe closed early (ecom … | head)', () => {
  it('prints no stack trace and keeps the exit code', async () => {
    ensureBuilt();
    const child = spawn(process.execPath, [`${ROOT}dist/cli/main.js`, 'doctor'], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(stderr).not.toMatch(/EPIPE|at .*\.js:\d+/);
    expect(code).toBe(0);
  }, 30_000);
});
