/**
 * `ecom open` (src/cli/commands/open.ts): the URL on stdout, a browser only where one
 * can open, exit 2 for an unknown target, exit 1 with a hint for one that is not
 * running. The command with a recording runtime and opener, and the built CLI.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseBrowser, runOpen, type OpenDeps } from '../../../src/cli/commands/open.js';
import { createOutput } from '../../../src/cli/output.js';
import { EcomError } from '../../../src/core/errors.js';
import type { Endpoints } from '../../../src/core/system.js';
import { cleanEnv, runCli } from '../../helpers/cli.js';
import { sink } from './sink.js';

const ENDPOINTS: Endpoints = {
  services: { catalog: 'http://127.0.0.1:5001', search: 'http://127.0.0.1:5002', order: 'http://127.0.0.1:5003', frontend: 'http://127.0.0.1:5004' },
  prometheus: 'http://127.0.0.1:9090',
  console: 'http://127.0.0.1:5005',
};

function harness(env: NodeJS.ProcessEnv, endpoints: Endpoints | null = ENDPOINTS, installed = ['xdg-open']) {
  const stdout = sink();
  const stderr = sink();
  const launched: string[][] = [];
  const deps: OpenDeps = {
    runtime: { name: 'local', endpoints: async () => endpoints ?? undefined },
    output: createOutput({ stdout: stdout.stream, stderr: stderr.stream, env, isTTY: false }),
    env,
    platform: 'linux',
    find: (tool) => (installed.includes(tool) ? `/usr/bin/${tool}` : undefined),
    launch: (path, url) => launched.push([path, url]),
  };
  return { deps, launched, stdout, stderr };
}

describe('ecom open', () => {
  it('prints the URL of each target and opens it with xdg-open in a desktop session', async () => {
    const h = harness({ DISPLAY: ':0' });
    expect(await runOpen({ cwd: '/', target: 'shop' }, h.deps)).toBe(0);
    expect(await runOpen({ cwd: '/', target: 'prometheus' }, h.deps)).toBe(0);
    expect(await runOpen({ cwd: '/' }, h.deps)).toBe(0);
    expect(h.stdout.text()).toBe('http://127.0.0.1:5004/\nhttp://127.0.0.1:9090\nhttp://127.0.0.1:5005\n');
    expect(h.launched).toEqual([
      ['/usr/bin/xdg-open', 'http://127.0.0.1:5004/'],
      ['/usr/bin/xdg-open', 'http://127.0.0.1:9090'],
      ['/usr/bin/xdg-open', 'http://127.0.0.1:5005'],
    ]);
  });

  it('only prints in CI, without a display or without an opener, and says why on stderr', async () => {
    for (const [env, installed, why] of [
      [{ CI: 'true', DISPLAY: ':0' }, ['xdg-open'], 'CI is set'],
      [{}, ['xdg-open'], 'no display'],
      [{ WAYLAND_DISPLAY: 'wayland-0' }, [], 'xdg-open is not installed'],
    ] as const) {
      const h = harness(env, ENDPOINTS, [...installed]);
      expect(await runOpen({ cwd: '/', target: 'console' }, h.deps)).toBe(0);
      expect(h.stdout.text()).toBe('http://127.0.0.1:5005\n');
      expect(h.launched).toEqual([]);
      expect(h.stderr.text()).toContain(`not opening a browser: ${why}`);
    }
  });

  it('uses open on macOS, where there is no DISPLAY', () => {
    expect(chooseBrowser({}, 'darwin', (t) => (t === 'open' ? '/usr/bin/open' : undefined))).toEqual({ opener: 'open', path: '/usr/bin/open' });
  });

  it('fails with exit 1 and a hint for a target that is not running, and when nothing runs', async () => {
    const h = harness({ DISPLAY: ':0' });
    const grafana = await runOpen({ cwd: '/', target: 'grafana' }, h.deps).catch((e: unknown) => e);
    expect(grafana).toBeInstanceOf(EcomError);
    expect(grafana).toMatchObject({ exitCode: 1, message: 'grafana is not running (local runtime)', hint: expect.stringContaining('--runtime kind') });
    const rabbitmq = await runOpen({ cwd: '/', target: 'rabbitmq' }, h.deps).catch((e: unknown) => e);
    expect(rabbitmq).toMatchObject({ exitCode: 1, hint: expect.stringContaining('rabbitmq-server') });
    const nothing = await runOpen({ cwd: '/', target: 'shop' }, harness({}, null).deps).catch((e: unknown) => e);
    expect(nothing).toMatchObject({ exitCode: 1, message: 'nothing is running', hint: 'start the system with `ecom up`' });
    expect(h.stdout.text()).toBe('');
    expect(h.launched).toEqual([]);
  });

  it('as a command: an unknown target exits 2 naming the valid ones, a stopped system exits 1', () => {
    const home = mkdtempSync(join(tmpdir(), 'ecom-open-'));
    try {
      const env = cleanEnv({ ECOM_HOME: home, ECOM_RUNTIME: 'local', CI: 'true' });
      const unknown = runCli(['open', 'kibana'], { env });
      expect(unknown.status).toBe(2);
      expect(unknown.stdout).toBe('');
      expect(unknown.stderr).toMatch(/^error: .*unknown target 'kibana'; valid targets: shop, console, prometheus, grafana, rabbitmq\n {2}hint: /);
      const stopped = runCli(['open', 'console'], { env });
      expect(stopped.status).toBe(1);
      expect(stopped.stderr).toBe('error: nothing is running\n  hint: start the system with `ecom up`\n');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
