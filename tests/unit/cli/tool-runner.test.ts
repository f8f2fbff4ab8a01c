import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { PrerequisiteError, TimeoutError, ToolError } from '../../../src/core/errors.js';
import { compareVersions, installCommand, parseVersion, shellQuote, ToolRunner } from '../../../src/tools/tool-runner.js';
import { createStandIns, type StandIns } from '../../helpers/stand-ins.js';

let standIns: StandIns | undefined;
const temps: string[] = [];
afterEach(() => {
  standIns?.cleanup();
  standIns = undefined;
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function osRelease(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ecom-os-'));
  temps.push(dir);
  writeFileSync(join(dir, 'os-release'), text);
  return join(dir, 'os-release');
}

const debianDir = mkdtempSync(join(tmpdir(), 'ecom-os-'));
const DEBIAN = join(debianDir, 'os-release');
writeFileSync(DEBIAN, 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n');
afterAll(() => rmSync(debianDir, { recursive: true, force: true }));

function runner(stand: StandIns, os = DEBIAN) {
  return new ToolRunner({ env: stand.env(), systemDirs: [], osReleasePath: os, platform: 'linux', arch: 'x64' });
}

describe('running a tool', () => {
  it('runs it with the exact argv and returns its output', async () => {
    standIns = createStandIns([{ name: 'kind', answers: [{ args: 'get clusters', stdout: 'ecom' }] }]);
    const result = await runner(standIns).run('kind', ['get', 'clusters']);
    expect(result).toMatchObject({ command: 'kind get clusters', stdout: 'ecom', exitCode: 0 });
    expect(standIns.calls()).toEqual([{ tool: 'kind', args: ['get', 'clusters'] }]);
  });

  it('turns a failure into a ToolError with a pasteable command, the exit code and the last 10 lines of stderr', async () => {
    const stderr = Array.from({ length: 15 }, (_, i) => `line ${i + 1}`).join('\n');
    standIns = createStandIns([{ name: 'helm', otherwise: { stderr, exitCode: 4 } }]);
    const error = await runner(standIns)
      .run('helm', ['install', 'my release', "it's"], { hint: 'check the chart' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolError);
    const e = error as ToolError;
    expect(e.command).toBe(`helm install 'my release' 'it'\\''s'`);
    expect(e.toolExitCode).toBe(4);
    expect(e.stderrTail.split('\n')).toEqual(Array.from({ length: 10 }, (_, i) => `line ${i + 6}`));
    expect(e.message).toBe(`helm failed (exit 4): helm install 'my release' 'it'\\''s'`);
    expect(e.hint).toBe('check the chart');
    expect(e.exitCode).toBe(1);
  });

  it('names a missing tool and the command that installs it on this OS', async () => {
    standIns = createStandIns([]);
    const error = await runner(standIns).run('rabbitmq-server', []).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrerequisiteError);
    expect((error as PrerequisiteError).message).toBe('rabbitmq-server is not installed');
    expect((error as PrerequisiteError).hint).toBe('install it: sudo apt-get update && sudo apt-get install -y rabbitmq-server');
    expect((error as PrerequisiteError).exitCode).toBe(3);
  });

  it('stops a tool that runs past its timeout with a TimeoutError', async () => {
    standIns = createStandIns([{ name: 'docker', otherwise: { sleepSeconds: 5 } }]);
    const error = await runner(standIns).run('docker', ['info'], { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).message).toBe('docker did not finish within 200 ms: docker info');
    expect((error as TimeoutError).exitCode).toBe(124);
  });

  it('finds daemons outside PATH in the system directories and shows their full path', async () => {
    standIns = createStandIns([{ name: 'sbin/rabbitmqctl', otherwise: { exitCode: 2, stderr: 'nodedown' } }]);
    const tools = new ToolRunner({ env: standIns.env(), systemDirs: [standIns.path('sbin')], osReleasePath: DEBIAN });
    const error = (await tools.run('rabbitmqctl', ['status']).catch((e: unknown) => e)) as ToolError;
    expect(error.command).toBe(`${standIns.path('sbin/rabbitmqctl')} status`);
  });
});

describe('versions', () => {
  it('parses the version out of what each tool prints', async () => {
    standIns = createStandIns([
      { name: 'kind', answers: [{ args: 'version', stdout: 'kind v0.29.0 go1.24 linux/amd64' }] },
      { name: 'prometheus', answers: [{ args: '--version', stdout: 'prometheus, version 2.42.0+ds (branch: debian/sid)' }] },
    ]);
    const tools = runner(standIns);
    expect(await tools.version('kind')).toBe('0.29.0');
    expect(await tools.version('prometheus')).toBe('2.42.0');
    expect(await tools.version('helm')).toBeUndefined();
    expect(standIns.calls()).toEqual([
      { tool: 'kind', args: ['version'] },
      { tool: 'prometheus', args: ['--version'] },
    ]);
  });

  it('reads rabbitmq-server\'s version from where it is installed, without starting a node', async () => {
    standIns = createStandIns([{ name: 'rabbitmq_server-3.13.7/sbin/rabbitmq-server', otherwise: { exitCode: 99 } }]);
    const tools = new ToolRunner({ env: standIns.env(), systemDirs: [standIns.path('rabbitmq_server-3.13.7/sbin')] });
    expect(await tools.version('rabbitmq-server')).toBe('3.13.7');
    expect(standIns.calls()).toEqual([]);
  });

  it('reads it from a Debian-style lib directory too', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ecom-rmq-'));
    temps.push(root);
    mkdirSync(join(root, 'lib/rabbitmq/lib/rabbitmq_server-3.10.8'), { recursive: true });
    mkdirSync(join(root, 'sbin'));
    writeFileSync(join(root, 'sbin/rabbitmq-server'), '#!/bin/sh\nexit 99\n', { mode: 0o755 });
    const tools = new ToolRunner({ env: { PATH: '' }, systemDirs: [join(root, 'sbin')] });
    expect(await tools.version('rabbitmq-server')).toBe('3.10.8');
  });

  it('compares versions numerically', () => {
    expect(compareVersions('20.19.0', '20.19.0')).toBe(0);
    expect(compareVersions('20.9.0', '20.19.0')).toBe(-1);
    expect(compareVersions('v22.1.0', '20.19.0')).toBe(1);
    expect(parseVersion('Client Version: v1.32.4-dispatcher')).toBe('1.32.4-dispatcher');
    expect(parseVersion('Chromium 156.0.8078.79 built on Debian')).toBe('156.0.8078.79');
  });
});

describe('install commands', () => {
  it('uses apt-get on Debian and Ubuntu, brew on macOS, a generic pointer elsewhere', () => {
    expect(installCommand('prometheus', 'debian')).toBe('sudo apt-get update && sudo apt-get install -y prometheus');
    expect(installCommand('chromium', 'ubuntu')).toBe('sudo snap install chromium');
    expect(installCommand('kind', 'debian', 'arm64')).toContain('kind-linux-arm64');
    expect(installCommand('rabbitmq-server', 'macos')).toBe('brew install rabbitmq');
    expect(installCommand('rabbitmq-server', 'other')).toBe('see https://www.rabbitmq.com/docs/download');
  });

  it('detects the OS family from /etc/os-release, ID_LIKE included', () => {
    const mint = osRelease('ID=linuxmint\nID_LIKE="ubuntu debian"\n');
    expect(new ToolRunner({ osReleasePath: mint, platform: 'linux' }).os()).toBe('ubuntu');
    expect(new ToolRunner({ osReleasePath: DEBIAN, platform: 'linux' }).os()).toBe('debian');
    expect(new ToolRunner({ osReleasePath: '/nonexistent', platform: 'linux' }).os()).toBe('other');
    expect(new ToolRunner({ platform: 'darwin' }).os()).toBe('macos');
  });

  it('quotes arguments only when a shell needs it', () => {
    expect(shellQuote(['kubectl', 'get', 'pods', '-l', 'app=catalog'])).toBe('kubectl get pods -l app=catalog');
    expect(shellQuote(['echo', 'a b', '$HOME', ''])).toBe(`echo 'a b' '$HOME' ''`);
  });
});
