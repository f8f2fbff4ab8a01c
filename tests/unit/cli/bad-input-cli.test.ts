/**
 * Bad input to the CLI as a user meets it, through the built CLI as a child process:
 * damaged state files, a missing or unreadable kubeconfig, a taken port, mistyped
 * names. Each is the documented exit code (README "Exit codes") and one line of what
 * failed plus one line of what to do; never a stack trace.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanEnv, runCli, type CliResult } from '../../helpers/cli.js';

const DOCUMENTED_EXIT_CODES = [0, 1, 2, 3, 124];
let home: string;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'ecom-badinput-'));
});
afterEach(() => {
  rmSync(home, { recursive: true, force: true });
});

/** `ecom <args>` with its own state directory, as CI runs it, and no Docker engine to find. */
function ecom(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  return runCli(args, { env: cleanEnv({ ECOM_HOME: home, CI: 'true', DOCKER_HOST: `unix://${join(home, 'no-docker.sock')}`, ...env }), timeoutMs: 60_000 });
}

/** Exit `code`, and on stderr exactly `error: <what>` then `  hint: <what to do>`, nothing else. */
function expectOneLineError(result: CliResult, code: number, message: RegExp, hint?: RegExp): void {
  const shown = `exit ${result.status}\n${result.stderr}`;
  expect(result.status, shown).toBe(code);
  expect(result.stderr, shown).not.toMatch(/^\s+at |\.js:\d+:\d+|Error: /m);
  const lines = result.stderr.trimEnd().split('\n').filter((l) => !/^\d{4}-\d\d-\d\dT[\d:.]+Z /.test(l));
  expect(lines, shown).toHaveLength(2);
  expect(lines[0], shown).toMatch(/^error: /);
  expect(lines[0], shown).toMatch(message);
  expect(lines[1], shown).toMatch(/^ {2}hint: \S/);
  if (hint) expect(lines[1], shown).toMatch(hint);
}

function writeState(file: string, content: string | Buffer): void {
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, file), content);
}

describe('a damaged runtime record (runtime.json)', () => {
  it.each(['garbage{', '\u0000\u00ff', '{"runtime":"bogus"}', '[]', ''])('%j: every command says which file and to name the runtime (exit 1)', (content) => {
    writeState('runtime.json', content);
    for (const command of [['status'], ['down'], ['logs'], ['smoke'], ['up']]) {
      expectOneLineError(ecom(command), 1, /the runtime record .*runtime\.json is damaged/, /--runtime kind\|context\|local/);
    }
  });

  it('naming the runtime works around it', () => {
    writeState('runtime.json', 'garbage{');
    const status = ecom(['status', '--runtime', 'local']);
    expect(status.status).toBe(0);
    expect(status.stdout).toContain('not running');
  });
});

describe('damaged local state files with nothing running', () => {
  it('status, logs, smoke and down say what is true, without a stack trace', () => {
    writeState('runtime.json', JSON.stringify({ runtime: 'local' }));
    for (const file of ['state.json', 'plan.json', 'secrets.json']) writeState(file, '\u0000garbage{');
    const status = ecom(['status']);
    expect(status.status).toBe(0);
    expect(status.stdout).toContain('not running');
    expectOneLineError(ecom(['logs']), 1, /nothing is running|there are no logs/);
    expectOneLineError(ecom(['smoke']), 1, /nothing is running/);
    const down = ecom(['down']);
    expect(down.status).toBe(0);
    expect(down.stderr + down.stdout).not.toMatch(/^\s+at /m);
  });
});

describe('the context runtime with a kubeconfig that cannot be used', () => {
  const up = ['up', '--runtime', 'context', '--registry', 'registry.invalid/team', '--yes'];

  it('a missing file is a missing prerequisite (exit 3) naming the path', () => {
    const missing = join(home, 'nowhere', 'config');
    expectOneLineError(ecom(up, { KUBECONFIG: missing }), 3, new RegExp(`no kubeconfig at ${missing}`), /KUBECONFIG/);
    expectOneLineError(ecom([...up, '--dry-run'], { KUBECONFIG: missing }), 3, /no kubeconfig at/);
  });

  it('a directory where the file should be is exit 3 saying it is not a file', () => {
    mkdirSync(join(home, 'kube-dir'));
    expectOneLineError(ecom(up, { KUBECONFIG: join(home, 'kube-dir') }), 3, /kubeconfig .*kube-dir is not a file/);
  });

  it('a file without a current context is a usage error (exit 2) pointing at --context', () => {
    writeFileSync(join(home, 'garbage.yaml'), 'not: [yaml\n\u0000');
    expectOneLineError(ecom(up, { KUBECONFIG: join(home, 'garbage.yaml') }), 2, /names no current context/, /--context/);
  });

  it('status and down with nothing recorded need no kubeconfig at all', () => {
    for (const command of [['status', '--runtime', 'context'], ['down', '--runtime', 'context']]) {
      const result = ecom(command, { KUBECONFIG: join(home, 'nowhere') });
      expect(result.status, result.stderr).toBe(0);
    }
  });
});

describe('a taken port', () => {
  let holder: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (holder ? holder.close(() => resolve()) : resolve())));

  it('up names the port, the service and who holds it, suggests another offset, and starts nothing (exit 1)', async () => {
    holder = createServer();
    const port = await new Promise<number>((resolve) => {
      // The order port of some offset: listen on any free port, then ask for the offset that lands there.
      holder!.listen(0, '127.0.0.1', () => resolve((holder!.address() as { port: number }).port));
    });
    const offset = port - 5003;
    const result = ecom(['up', '--runtime', 'local', '--port-offset', String(offset)]);
    expectOneLineError(result, 1, new RegExp(`port ${port} \\(order\\) is taken by pid ${process.pid}`), /--port-offset \d+/);
    const status = ecom(['status', '--runtime', 'local']);
    expect(status.stdout).toContain('not running');
  });
});

describe('mistyped names', () => {
  it('restart suggests the nearest service', () => {
    expectOneLineError(ecom(['restart', 'ordr']), 2, /^error: unknown service 'ordr'; did you mean order\?$/);
  });

  it('every exit code seen here is a documented one', () => {
    for (const args of [['nosuch'], ['up', '--timeout', '-1'], ['logs', '--tail', 'x'], ['status', '--runtime', 'kidn'], ['open', 'kibana']]) {
      const result = ecom(args);
      expect(DOCUMENTED_EXIT_CODES).toContain(result.status);
      expectOneLineError(result, 2, /./);
    }
  });
});
