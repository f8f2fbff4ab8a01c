/**
 * The cluster runtimes' prerequisites (src/runtime/cluster/prerequisites.ts): the
 * version in each tool's real answer, and the one error naming everything missing or
 * too old with the commands that install it, checked against stand-in tools.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ExitCode, PrerequisiteError } from '../../../src/core/errors.js';
import { MIN_VERSIONS, checkTool, parseToolVersion, requireTools } from '../../../src/runtime/cluster/prerequisites.js';
import { ToolRunner } from '../../../src/tools/tool-runner.js';
import { createStandIns, type StandIns, type StandInSpec } from '../../helpers/stand-ins.js';

describe('parseToolVersion', () => {
  it.each([
    ['kind', 'kind v0.29.0 go1.24.2 linux/amd64', '0.29.0'],
    ['kind', 'kind v0.24.0-alpha+5b1d7b6c4e go1.22.6 darwin/arm64', '0.24.0-alpha'],
    ['kubectl', 'Client Version: v1.33.1\nKustomize Version: v5.6.0', '1.33.1'],
    ['kubectl', 'WARNING: This version information is deprecated and will be replaced with the output from kubectl version --short.\nClient Version: version.Info{Major:"1", Minor:"27", GitVersion:"v1.27.3", GitCommit:"25b4e43193bcda6c7328a6d147b1fb73a33f1598", GoVersion:"go1.20.5"}\nKustomize Version: v5.0.1', '1.27.3'],
    ['helm', 'v3.18.3+g6838ebc', '3.18.3'],
    ['helm', 'v4.0.0+g3f7c4d5', '4.0.0'],
    ['istioctl', 'client version: 1.26.2', '1.26.2'],
    ['istioctl', '1.24.1', '1.24.1'],
    ['docker', '28.2.2', '28.2.2'],
  ] as const)('%s: %j → %s', (tool, output, version) => {
    expect(parseToolVersion(tool, output)).toBe(version);
  });

  it('finds none where the tool printed none', () => {
    expect(parseToolVersion('istioctl', 'Error: unknown flag: --remote')).toBeUndefined();
  });
});

const osDir = mkdtempSync(join(tmpdir(), 'ecom-prereq-os-'));
const UBUNTU = join(osDir, 'os-release');
writeFileSync(UBUNTU, 'ID=ubuntu\nID_LIKE=debian\nVERSION_ID="24.04"\n');
afterAll(() => rmSync(osDir, { recursive: true, force: true }));
let standIns: StandIns | undefined;
afterEach(() => standIns?.cleanup());

function runner(specs: StandInSpec[], platform: NodeJS.Platform = 'linux'): ToolRunner {
  standIns = createStandIns(specs);
  return new ToolRunner({ env: standIns.env({ DOCKER_HOST: 'unix:///nowhere.sock' }), systemDirs: [], osReleasePath: UBUNTU, platform, arch: 'x64' });
}

const answer = (name: string, stdout: string, exitCode = 0, stderr?: string): StandInSpec => ({ name, otherwise: { stdout, exitCode, ...(stderr ? { stderr } : {}) } });

describe('checkTool and requireTools', () => {
  it('accepts each tool at its minimum version and names what it found', async () => {
    const tools = runner([
      answer('docker', MIN_VERSIONS.docker),
      answer('kind', `kind v${MIN_VERSIONS.kind} go1.22 linux/amd64`),
      answer('kubectl', `Client Version: v${MIN_VERSIONS.kubectl}`),
      answer('helm', `v${MIN_VERSIONS.helm}+g1`),
      answer('istioctl', `client version: ${MIN_VERSIONS.istioctl}`),
    ]);
    const checks = await requireTools(tools, ['docker', 'kind', 'kubectl', 'helm', 'istioctl'], 'kind');
    expect(checks.map((c) => `${c.tool} ${c.state} ${c.version}`)).toEqual([
      `docker ok ${MIN_VERSIONS.docker}`, `kind ok ${MIN_VERSIONS.kind}`, `kubectl ok ${MIN_VERSIONS.kubectl}`, `helm ok ${MIN_VERSIONS.helm}`, `istioctl ok ${MIN_VERSIONS.istioctl}`,
    ]);
    expect(standIns!.calls().map((c) => [c.tool, ...c.args].join(' ')).sort()).toEqual([
      'docker version --format {{.Server.Version}}', 'helm version --short', 'istioctl version --remote=false', 'kind version', 'kubectl version --client',
    ]);
  });

  it('tells missing, too old and an engine that does not answer apart', async () => {
    const tools = runner([
      answer('docker', '', 1, 'Cannot connect to the Docker daemon at unix:///nowhere.sock. Is the docker daemon running?'),
      answer('helm', 'v3.12.0+gc9f554d'),
    ]);
    expect(await checkTool(tools, 'kind')).toEqual({ tool: 'kind', state: 'missing' });
    expect(await checkTool(tools, 'helm')).toEqual({ tool: 'helm', state: 'too old', version: '3.12.0' });
    expect(await checkTool(tools, 'docker')).toEqual({
      tool: 'docker',
      state: 'not answering',
      reason: 'Cannot connect to the Docker daemon at unix:///nowhere.sock. Is the docker daemon running?',
    });
  });

  it('names every problem in one exit-3 error, with the commands for this OS', async () => {
    const tools = runner([answer('docker', '', 1, 'Cannot connect to the Docker daemon at unix:///nowhere.sock. Is the docker daemon running?'), answer('helm', 'v3.12.0+gc9f554d')]);
    const err = (await requireTools(tools, ['docker', 'kind', 'helm'], 'kind').catch((e: unknown) => e)) as PrerequisiteError;
    expect(err).toBeInstanceOf(PrerequisiteError);
    expect(err.exitCode).toBe(ExitCode.prerequisite);
    expect(err.message).toBe(
      'the kind runtime cannot start: no Docker engine answers at DOCKER_HOST=unix:///nowhere.sock (Cannot connect to the Docker daemon at unix:///nowhere.sock. Is the docker daemon running?); ' +
        `kind is not installed; helm 3.12.0 is older than ${MIN_VERSIONS.helm}`,
    );
    expect(err.hint).toBe(
      'start the Docker engine (sudo systemctl start docker), or point DOCKER_HOST at one that runs; then ' +
        'install kind: curl -Lo kind https://kind.sigs.k8s.io/dl/v0.29.0/kind-linux-amd64 && sudo install kind /usr/local/bin/; then ' +
        'upgrade helm: curl -fsSL https://raw.githubusercontent.com/helm/helm/main/scripts/get-helm-3 | bash',
    );
  });

  it('gives the macOS command on macOS', async () => {
    const err = (await requireTools(runner([], 'darwin'), ['istioctl'], 'context').catch((e: unknown) => e)) as PrerequisiteError;
    expect(err.message).toBe('the context runtime cannot start: istioctl is not installed');
    expect(err.hint).toBe('install istioctl: brew install istioctl');
  });
});
