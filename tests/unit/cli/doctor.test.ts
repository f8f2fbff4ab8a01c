import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runDoctor, type ToolReport } from '../../../src/cli/commands/doctor.js';
import { createOutput } from '../../../src/cli/output.js';
import { ToolRunner } from '../../../src/tools/tool-runner.js';
import { createStandIns, type StandIns, type StandInSpec } from '../../helpers/stand-ins.js';
import { sink } from './sink.js';

const osDir = mkdtempSync(join(tmpdir(), 'ecom-doctor-os-'));
const DEBIAN = join(osDir, 'os-release');
writeFileSync(DEBIAN, 'ID=debian\nVERSION_ID="12"\n');
afterAll(() => rmSync(osDir, { recursive: true, force: true }));

let standIns: StandIns | undefined;
afterEach(() => standIns?.cleanup());

const CLIENT_ONLY_DOCKER: StandInSpec = {
  name: 'docker',
  answers: [
    { args: '--version', stdout: 'Docker version 28.2.2, build e6534b4' },
    { args: 'info*', stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?', exitCode: 1 },
  ],
};
const KIND: StandInSpec = { name: 'kind', answers: [{ args: 'version', stdout: 'kind v0.29.0 go1.24 linux/amd64' }] };

async function doctor(specs: StandInSpec[], options: { json?: boolean; nodeVersion?: string; probeTimeoutMs?: number; runtime?: string } = {}) {
  standIns = createStandIns(specs);
  const tools = new ToolRunner({ env: standIns.env(), systemDirs: [standIns.path('sbin')], osReleasePath: DEBIAN, platform: 'linux' });
  const out = sink();
  const err = sink();
  const output = createOutput({ json: options.json, isTTY: false, env: {}, stdout: out.stream, stderr: err.stream });
  const code = await runDoctor(
    { cwd: process.cwd(), json: options.json ?? false, runtime: options.runtime },
    { output, tools, nodeVersion: options.nodeVersion ?? '20.19.1', probeTimeoutMs: options.probeTimeoutMs },
  );
  return { code, stdout: out.text(), stderr: err.text(), calls: standIns.calls() };
}

function reports(stdout: string): Record<string, ToolReport> {
  const doc = JSON.parse(stdout) as { tools: ToolReport[] };
  return Object.fromEntries(doc.tools.map((t) => [t.name, t]));
}

describe('ecom doctor', () => {
  it('tells a Docker client without an engine apart from a Docker engine', async () => {
    const { code, stdout, calls } = await doctor([CLIENT_ONLY_DOCKER, KIND], { json: true });
    expect(code).toBe(0);
    const docker = reports(stdout).docker!;
    expect(docker).toMatchObject({ status: 'client only', version: '28.2.2', enables: 'a Docker engine: the kind and context runtimes (image builds)' });
    expect(docker.detail).toBe('the engine is not answering: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?');
    expect(docker.install).toContain('sudo apt-get update && sudo apt-get install -y docker.io');
    expect(calls).toContainEqual({ tool: 'docker', args: ['info', '--format', '{{.ServerVersion}}'] });
  });

  it('shows a client-only Docker as "missing (client only)" in the table', async () => {
    const { stdout } = await doctor([CLIENT_ONLY_DOCKER, KIND]);
    const dockerRow = stdout.split('\n').find((l) => l.trimStart().startsWith('docker '));
    // Every line within 80 columns, the tools under the runtime that needs them.
    expect(stdout.split('\n').filter((l) => l.length > 80)).toEqual([]);
    const lines = stdout.split('\n');
    expect(lines.indexOf('kind and context runtimes')).toBeLessThan(lines.findIndex((l) => l.trimStart().startsWith('docker ')));
    expect(lines.indexOf('local runtime')).toBeLessThan(lines.findIndex((l) => l.trimStart().startsWith('rabbitmq-server ')));
    expect(dockerRow).toMatch(/^\s*docker\s+missing \(client only\)\s+28\.2\.2\s+a Docker engine/);
    expect(stdout).not.toContain('\u001b[');
  });

  it('parses versions, and gives missing tools their install command for this OS', async () => {
    const { stdout } = await doctor([
      KIND,
      { name: 'sbin/rabbitmq-server' },
      { name: 'prometheus', answers: [{ args: '--version', stdout: 'prometheus, version 2.42.0+ds (branch: debian/sid)' }] },
      { name: 'chromium', answers: [{ args: '--version', stdout: 'Chromium 156.0.8078.79 built on Debian GNU/Linux 12 (bookworm)' }] },
    ], { json: true });
    const r = reports(stdout);
    expect(r.kind).toMatchObject({ status: 'ok', version: '0.29.0', path: standIns!.path('kind') });
    expect(r['rabbitmq-server']).toMatchObject({ status: 'ok', enables: expect.stringContaining('local runtime runs its own broker') });
    expect(r.prometheus).toMatchObject({ status: 'ok', version: '2.42.0', enables: 'metrics scraping in the local runtime' });
    expect(r.chromium).toMatchObject({ status: 'ok', version: '156.0.8078.79', enables: 'browser tests' });
    expect(r.helm).toMatchObject({ status: 'missing', install: 'curl -fsSL https://raw.githubusercontent.com/helm/helm/main/scripts/get-helm-3 | bash' });
    expect(r.docker).toMatchObject({ status: 'missing', install: 'sudo apt-get update && sudo apt-get install -y docker.io' });
    expect(r.node).toMatchObject({ status: 'ok', version: '20.19.1' });
  });

  it('lists what is missing with the command that installs it, under the table', async () => {
    const { stdout } = await doctor([KIND]);
    expect(stdout).toContain('To install what is missing:\n');
    expect(stdout).toContain('  rabbitmq-server:\n    sudo apt-get update && sudo apt-get install -y rabbitmq-server\n');
    expect(stdout.trimEnd().split('\n').at(-1)).toBe('The local runtime can run (`ecom up`).');
  });

  it('with --runtime kind reports every tool, then names what that runtime misses and exits 3', async () => {
    const { code, stdout } = await doctor([KIND], { runtime: 'kind' });
    expect(code).toBe(3);
    expect(stdout).toMatch(/^\s*kind\s+ok\s+0\.29\.0/m);
    expect(stdout.trimEnd().split('\n').at(-1)).toBe('The kind runtime cannot run here: docker, kubectl, helm, istioctl are not working (see above).');
    const json = await doctor([KIND], { runtime: 'context', json: true });
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, runtime: { name: 'context', available: true, ready: false, missing: ['docker', 'helm', 'istioctl'] } });
  });

  it('with --runtime kind and every tool working, says the kind runtime can run', async () => {
    const engine: StandInSpec = {
      name: 'docker',
      answers: [{ args: '--version', stdout: 'Docker version 28.2.2, build e6534b4' }, { args: 'info*', stdout: '28.2.2' }],
    };
    const tool = (name: string, stdout: string): StandInSpec => ({ name, answers: [{ args: '*', stdout }] });
    const { code, stdout } = await doctor(
      [engine, KIND, tool('kubectl', 'Client Version: v1.33.1'), tool('helm', 'v3.18.3+g6838ebc'), tool('istioctl', 'client version: 1.26.2')],
      { runtime: 'kind' },
    );
    expect(code).toBe(0);
    expect(stdout.trimEnd().split('\n').at(-1)).toBe('The kind runtime can run (`ecom up --runtime kind`).');
  });

  it('exits 3 when Node.js is older than 20.19', async () => {
    const { code, stdout } = await doctor([], { json: true, nodeVersion: 'v20.10.0' });
    expect(code).toBe(3);
    const doc = JSON.parse(stdout) as { ok: boolean };
    expect(doc.ok).toBe(false);
    expect(reports(stdout).node).toMatchObject({ status: 'too old', detail: 'ecom needs Node.js 20.19.0 or newer' });
  });

  it('gives each probe its own timeout, so a hanging `docker info` does not hang the report', async () => {
    const hanging: StandInSpec = {
      name: 'docker',
      answers: [{ args: '--version', stdout: 'Docker version 28.2.2, build e6534b4' }, { args: 'info*', sleepSeconds: 10 }],
    };
    const { stdout } = await doctor([hanging, KIND], { json: true, probeTimeoutMs: 500 });
    expect(reports(stdout).docker).toMatchObject({ status: 'client only', detail: 'the engine is not answering: docker did not finish within 500 ms: docker info --format \'{{.ServerVersion}}\'' });
    expect(reports(stdout).kind).toMatchObject({ version: '0.29.0' });
  });
});
