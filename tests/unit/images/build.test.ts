/**
 * The build plan against a recording stand-in docker that keeps the images it "built"
 * in a directory, and an in-test registry answering the v2 API's manifest HEAD.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode, PrerequisiteError, ToolError, UsageError } from '../../../src/core/errors.js';
import { buildArgs, buildImages, type BuildImagesOptions } from '../../../src/images/build.js';
import { chooseClient } from '../../../src/images/docker.js';
import { imageTags } from '../../../src/images/tags.js';
import { ToolRunner } from '../../../src/tools/tool-runner.js';
import { ROOT } from '../../helpers/cli.js';

const SEP = '\u001f';

/** A docker that answers version probes, and builds, tags and inspects images as files. */
function standInDocker(dir: string, name = 'docker'): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    `#!/bin/sh
PATH=/usr/bin:/bin
state='${dir}'
{ printf '%s' docker; for a in "$@"; do printf '${SEP}%s' "$a"; done; printf '\\n'; } >> "$state/calls.log"
file() { printf '%s/images/%s' "$state" "$(printf '%s' "$1" | tr '/:' '__')"; }
case "$1" in
  version)
    if [ "$3" = '{{.Client.Version}}' ]; then echo "\${STAND_IN_CLIENT_VERSION:-20.10.24}"; exit 0; fi
    if [ -n "$STAND_IN_ENGINE_DOWN" ]; then echo 'Cannot connect to the Docker daemon at unix:///nowhere.sock. Is the docker daemon running?' >&2; exit 1; fi
    echo 20.10.24 ;;
  buildx) [ -n "$STAND_IN_BUILDX" ] || { echo "docker: 'buildx' is not a docker command." >&2; exit 1; } ;;
  image) f="$(file "$5")"; [ -f "$f" ] && cat "$f" || { echo "Error: No such image: $5" >&2; exit 1; } ;;
  build)
    if [ -n "$STAND_IN_BUILD_FAILS" ]; then printf '#12 [build 4/9] RUN npm ci\\n#12 ERROR: npm ci exited 1\\n' >&2; exit 1; fi
    while [ $# -gt 0 ]; do [ "$1" = --tag ] && ref="$2"; shift; done
    mkdir -p "$state/images"; echo 230000000 > "$(file "$ref")" ;;
  tag) cp "$(file "$2")" "$(file "$3")" ;;
  push) echo "$2: digest: sha256:0 size: 1" ;;
esac
`,
  );
  chmodSync(path, 0o755);
  return path;
}

let dir: string;
let registry: { server: Server; host: string; present: Set<string>; requests: string[] } | undefined;

function calls(): string[][] {
  let text = '';
  try {
    text = readFileSync(join(dir, 'calls.log'), 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter(Boolean).map((line) => line.split(SEP).slice(1));
}

/** The calls that change something (not the probes). */
const actions = () => calls().filter((args) => ['build', 'tag', 'push'].includes(args[0]!));

function options(extra: Partial<BuildImagesOptions> = {}, env: NodeJS.ProcessEnv = {}): BuildImagesOptions {
  return {
    root: ROOT,
    services: ['catalog', 'search', 'order', 'frontend'],
    push: false,
    tools: new ToolRunner({ env: { ...process.env, ...env, PATH: dir, DOCKER_HOST: 'unix:///nowhere.sock' }, systemDirs: [] }),
    extraDockerClients: [],
    npmCaFile: null,
    ...extra,
  };
}

async function startRegistry(present: string[]): Promise<NonNullable<typeof registry>> {
  const state = { present: new Set(present), requests: [] as string[] };
  const server = createServer((req, res) => {
    state.requests.push(`${req.method} ${req.url}`);
    res.statusCode = state.present.has(req.url ?? '') ? 200 : 404;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  registry = { server, host: `127.0.0.1:${(server.address() as AddressInfo).port}`, ...state };
  return registry;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ecom-build-'));
  mkdirSync(join(dir, 'images'));
  standInDocker(dir);
});

afterEach(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (registry) await new Promise((resolve) => registry!.server.close(resolve));
  registry = undefined;
});

describe('buildImages', () => {
  it('builds every image once with its input-hash tag, then skips them all', async () => {
    const tags = await imageTags(ROOT);
    const first = await buildImages(options());
    expect(first.client).toEqual({ path: join(dir, 'docker'), clientVersion: '20.10.24', builder: 'engine' });
    expect(first.images.map((i) => [i.reference, i.action, i.sizeBytes])).toEqual([
      [`ecom/catalog:${tags.catalog}`, 'built', 230_000_000],
      [`ecom/search:${tags.search}`, 'built', 230_000_000],
      [`ecom/order:${tags.order}`, 'built', 230_000_000],
      [`ecom/frontend:${tags.frontend}`, 'built', 230_000_000],
    ]);
    const builds = actions();
    expect(builds).toHaveLength(4);
    expect(builds).toContainEqual(buildArgs(ROOT, 'catalog', tags.catalog, `ecom/catalog:${tags.catalog}`, undefined));
    expect(builds.find((args) => args.includes('SERVICE=order'))).toEqual([
      'build', '--network', 'host', '--file', join(ROOT, 'Dockerfile'), '--target', 'order', '--build-arg', 'SERVICE=order',
      '--label', 'ecom.service=order', '--label', `ecom.inputs=${tags.order}`, '--tag', `ecom/order:${tags.order}`,
      '--progress', 'plain', ROOT,
    ]);

    rmSync(join(dir, 'calls.log'));
    const second = await buildImages(options());
    expect(second.images.map((i) => `${i.service} ${i.action} ${i.reason}`)).toEqual([
      'catalog skipped exists locally',
      'search skipped exists locally',
      'order skipped exists locally',
      'frontend skipped exists locally',
    ]);
    expect(actions()).toEqual([]);
  });

  it('builds only the services asked for, and passes npm\'s CA file as a BuildKit secret', async () => {
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, 'not a real certificate');
    const result = await buildImages(options({ services: ['search'], npmCaFile: caFile }));
    expect(result.images.map((i) => i.service)).toEqual(['search']);
    const [build] = actions();
    expect(build!.slice(-3)).toEqual(['--secret', `id=npmca,src=${caFile}`, ROOT]);
  });

  it('with --push, skips what the registry has (asked through its v2 API) and pushes the rest', async () => {
    const tags = await imageTags(ROOT);
    const reg = await startRegistry([`/v2/ecom/catalog/manifests/${tags.catalog}`]);
    const result = await buildImages(options({ services: ['catalog', 'order'], registry: reg.host, push: true }));
    expect(result.images.map((i) => [i.reference, i.action])).toEqual([
      [`${reg.host}/ecom/catalog:${tags.catalog}`, 'skipped'],
      [`${reg.host}/ecom/order:${tags.order}`, 'built and pushed'],
    ]);
    expect(reg.requests.sort()).toEqual([`HEAD /v2/ecom/catalog/manifests/${tags.catalog}`, `HEAD /v2/ecom/order/manifests/${tags.order}`]);
    expect(actions().map((args) => args[0])).toEqual(['build', 'push']);
    expect(actions()[1]).toEqual(['push', `${reg.host}/ecom/order:${tags.order}`]);
  });

  it('names an image built without --registry for the registry with docker tag instead of building it again', async () => {
    const tags = await imageTags(ROOT);
    await buildImages(options({ services: ['order'] }));
    rmSync(join(dir, 'calls.log'));
    const reg = await startRegistry([]);
    const result = await buildImages(options({ services: ['order'], registry: reg.host, push: true }));
    expect(result.images[0]).toMatchObject({ action: 'pushed', built: false, pushed: true });
    expect(actions()).toEqual([
      ['tag', `ecom/order:${tags.order}`, `${reg.host}/ecom/order:${tags.order}`],
      ['push', `${reg.host}/ecom/order:${tags.order}`],
    ]);
  });

  it('reports a failing build as the command with the last lines of its output', async () => {
    const error = await buildImages(options({ services: ['catalog'] }, { STAND_IN_BUILD_FAILS: '1' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolError);
    const toolError = error as ToolError;
    expect(toolError.exitCode).toBe(ExitCode.failed);
    expect(toolError.message).toMatch(/^.*docker failed \(exit 1\): .*docker build --network host .* --target catalog /);
    expect(toolError.stderrTail).toContain('#12 ERROR: npm ci exited 1');
  });

  it('is a prerequisite error (exit 3) when no engine answers, naming DOCKER_HOST', async () => {
    const error = await buildImages(options({}, { STAND_IN_ENGINE_DOWN: '1' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrerequisiteError);
    expect((error as PrerequisiteError).exitCode).toBe(ExitCode.prerequisite);
    expect((error as Error).message).toContain('no Docker engine answers at DOCKER_HOST=unix:///nowhere.sock: Cannot connect');
    expect(actions()).toEqual([]);
  });

  it('is a prerequisite error (exit 3) with the install command when docker is missing', async () => {
    rmSync(join(dir, 'docker'));
    const error = await buildImages(options()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrerequisiteError);
    expect((error as PrerequisiteError).message).toBe('docker is not installed (needed to build the service images)');
  });

  it('refuses a client without buildx from 23 on, and says what to install', async () => {
    const error = await buildImages(options({}, { STAND_IN_CLIENT_VERSION: '28.2.2' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrerequisiteError);
    expect((error as Error).message).toContain(`no Docker client here can run BuildKit builds (${join(dir, 'docker')} 28.2.2`);
    expect((error as PrerequisiteError).hint).toContain('buildx');
    const withBuildx = await buildImages(options({ services: ['catalog'] }, { STAND_IN_CLIENT_VERSION: '28.2.2', STAND_IN_BUILDX: '1' }));
    expect(withBuildx.client.builder).toBe('buildx');
  });

  it('is a usage error (exit 2) to push without a registry, or to give a registry with a scheme', async () => {
    await expect(buildImages(options({ push: true }))).rejects.toBeInstanceOf(UsageError);
    await expect(buildImages(options({ registry: 'http://127.0.0.1:5000' }))).rejects.toThrow('is not a registry reference');
  });
});

describe('chooseClient', () => {
  it('takes the first client that has buildx or predates 23, skipping a newer one without buildx', () => {
    const newer = { path: '/usr/local/bin/docker', clientVersion: '28.2.2', buildx: false };
    const debian = { path: '/usr/bin/docker', clientVersion: '20.10.24', buildx: false };
    expect(chooseClient([newer, debian])).toEqual({ path: '/usr/bin/docker', clientVersion: '20.10.24', builder: 'engine' });
    expect(chooseClient([{ ...newer, buildx: true }, debian])?.path).toBe('/usr/local/bin/docker');
    expect(chooseClient([newer])).toBeUndefined();
    expect(chooseClient([{ path: '/x/docker', buildx: false }])).toBeUndefined();
  });
});
