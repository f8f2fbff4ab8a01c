/**
 * Builds the service images with their input-hash tags (docs/architecture.md,
 * "Images"), concurrently, through the engine in DOCKER_HOST (or the default socket).
 * A tag that exists is not built again: locally (`docker image inspect`), or in the
 * registry when pushing (its HTTP API). `ecom build`, the kind runtime and the context
 * runtime all build through here.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';
import type { ServiceName } from '../core/system.js';
import type { ProgressEvent } from '../runtime/types.js';
import { ToolRunner } from '../tools/tool-runner.js';
import { localImageSize, requireEngine, resolveDockerClient, type DockerClient } from './docker.js';
import { normalizeRegistry, registryHasTag } from './registry.js';
import { imageRepository, imageTags } from './tags.js';

const BUILD_TIMEOUT_MS = 20 * 60_000;
const PUSH_TIMEOUT_MS = 10 * 60_000;
const NPM_CONFIG_TIMEOUT_MS = 10_000;
const TAG_TIMEOUT_MS = 10_000;

export interface BuildImagesOptions {
  /** The repository root: Dockerfile, package files, src/services. */
  root: string;
  services: readonly ServiceName[];
  /** `host[:port][/path]`: images are named `<registry>/ecom/<service>`. */
  registry?: string;
  push: boolean;
  tools?: ToolRunner;
  progress?: (event: ProgressEvent) => void;
  fetch?: typeof fetch;
  /** Clients tried after those on PATH (Debian's /usr/bin/docker by default). */
  extraDockerClients?: string[];
  /** npm's CA file for the build's `npm ci`; asked from `npm config get cafile` when undefined, none when null. */
  npmCaFile?: string | null;
}

export type ImageAction = 'built' | 'pushed' | 'built and pushed' | 'skipped';

export interface ImageResult {
  service: ServiceName;
  /** `ecom/catalog`, or `<registry>/ecom/catalog`. */
  repository: string;
  tag: string;
  reference: string;
  action: ImageAction;
  built: boolean;
  pushed: boolean;
  /** Why nothing was done, for a skipped image. */
  reason?: string;
  /** The engine's size of the image, when the engine has it. */
  sizeBytes?: number;
  durationMs: number;
}

export interface BuildImagesResult {
  client: DockerClient;
  engineVersion: string;
  images: ImageResult[];
}

interface BuildContext {
  options: BuildImagesOptions;
  tools: ToolRunner;
  client: DockerClient;
  registry?: string;
  npmCaFile: () => Promise<string | undefined>;
  progress: (event: ProgressEvent) => void;
}

export async function buildImages(options: BuildImagesOptions): Promise<BuildImagesResult> {
  const registry = options.registry === undefined ? undefined : normalizeRegistry(options.registry);
  if (options.push && !registry) {
    throw new UsageError('--push needs the registry to push to', 'add --registry, e.g. --registry 127.0.0.1:5050');
  }
  if (!existsSync(join(options.root, 'Dockerfile'))) {
    throw new UsageError(`no Dockerfile in ${options.root}`, 'run ecom build in the ecom repository, or point -C at it');
  }
  const tools = options.tools ?? new ToolRunner();
  const client = await resolveDockerClient(tools, options.extraDockerClients);
  const engineVersion = await requireEngine(tools, client);
  const tags = await imageTags(options.root);
  let caFile: Promise<string | undefined> | undefined;
  const ctx: BuildContext = {
    options,
    tools,
    client,
    registry,
    npmCaFile: () => (caFile ??= options.npmCaFile === undefined ? npmCaFile(tools) : Promise.resolve(options.npmCaFile ?? undefined)),
    progress: options.progress ?? (() => {}),
  };
  // All settle before a failure is reported, so no build is left running behind it.
  const settled = await Promise.allSettled(options.services.map((service) => buildOne(ctx, service, tags[service])));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return { client, engineVersion, images: settled.map((s) => (s as PromiseFulfilledResult<ImageResult>).value) };
}

async function buildOne(ctx: BuildContext, service: ServiceName, tag: string): Promise<ImageResult> {
  const started = Date.now();
  const task = `${service} image`;
  const repository = ctx.registry ? `${ctx.registry}/${imageRepository(service)}` : imageRepository(service);
  const reference = `${repository}:${tag}`;
  const result = (action: ImageAction, built: boolean, pushed: boolean, sizeBytes: number | undefined, reason?: string): ImageResult => ({
    service,
    repository,
    tag,
    reference,
    action,
    built,
    pushed,
    ...(reason ? { reason } : {}),
    ...(sizeBytes === undefined ? {} : { sizeBytes }),
    durationMs: Date.now() - started,
  });

  if (ctx.options.push) {
    const check = await registryHasTag(ctx.registry!, imageRepository(service), tag, ctx.options.fetch);
    if (check.presence === 'present') {
      ctx.progress({ kind: 'skip', task, reason: `${reference} is in the registry` });
      return result('skipped', false, false, await localImageSize(ctx.tools, ctx.client, reference), 'in the registry');
    }
    if (check.presence === 'unknown') ctx.progress({ kind: 'warn', task, message: `cannot tell whether the registry has it (${check.reason}); pushing` });
  }

  let size = await localImageSize(ctx.tools, ctx.client, reference);
  if (size === undefined && ctx.registry) size = await tagFromPlainName(ctx, imageRepository(service), tag, reference);
  const built = size === undefined;
  if (built) {
    ctx.progress({ kind: 'start', task, verb: `building ${reference}` });
    await dockerBuild(ctx, service, tag, reference);
    size = await localImageSize(ctx.tools, ctx.client, reference);
  } else if (!ctx.options.push) {
    ctx.progress({ kind: 'skip', task, reason: `${reference} exists` });
    return result('skipped', false, false, size, 'exists locally');
  }
  if (ctx.options.push) {
    ctx.progress({ kind: 'start', task, verb: `pushing ${reference}` });
    await ctx.tools.run(ctx.client.path, ['push', reference], {
      timeoutMs: PUSH_TIMEOUT_MS,
      hint: `check that the registry ${ctx.registry} answers and accepts pushes (docker login for one that needs credentials)`,
    });
  }
  const action: ImageAction = built && ctx.options.push ? 'built and pushed' : built ? 'built' : 'pushed';
  ctx.progress({ kind: 'done', task, outcome: action, detail: reference });
  return result(action, built, ctx.options.push, size);
}

/**
 * The same inputs built earlier without --registry (`ecom/catalog:<tag>`) are the same
 * image: naming it for the registry is a `docker tag`, not a build.
 */
async function tagFromPlainName(ctx: BuildContext, plainRepository: string, tag: string, reference: string): Promise<number | undefined> {
  const plain = `${plainRepository}:${tag}`;
  const size = await localImageSize(ctx.tools, ctx.client, plain);
  if (size !== undefined) await ctx.tools.run(ctx.client.path, ['tag', plain, reference], { timeoutMs: TAG_TIMEOUT_MS });
  return size;
}

/** The `docker build` argv for one service (exported for tests that assert it). */
export function buildArgs(root: string, service: ServiceName, tag: string, reference: string, caFile: string | undefined): string[] {
  return [
    'build',
    '--network', 'host',
    '--file', join(root, 'Dockerfile'),
    '--target', service,
    '--build-arg', `SERVICE=${service}`,
    '--label', `ecom.service=${service}`,
    '--label', `ecom.inputs=${tag}`,
    '--tag', reference,
    '--progress', 'plain',
    ...(caFile ? ['--secret', `id=npmca,src=${caFile}`] : []),
    root,
  ];
}

async function dockerBuild(ctx: BuildContext, service: ServiceName, tag: string, reference: string): Promise<void> {
  const args = buildArgs(ctx.options.root, service, tag, reference, await ctx.npmCaFile());
  await ctx.tools.run(ctx.client.path, args, {
    env: { DOCKER_BUILDKIT: '1' },
    timeoutMs: BUILD_TIMEOUT_MS,
    hint: 'the last lines above are the build step that failed; run the command yourself to see the whole log',
  });
}

/**
 * The CA file npm is configured with, if any: behind a TLS-inspecting proxy npm reaches
 * its registry only with it, and so does the `npm ci` inside the build (as a secret).
 */
async function npmCaFile(tools: ToolRunner): Promise<string | undefined> {
  if (!tools.find('npm')) return undefined;
  try {
    const value = (await tools.run('npm', ['config', 'get', 'cafile'], { timeoutMs: NPM_CONFIG_TIMEOUT_MS })).stdout.trim();
    return value && value !== 'null' && value !== 'undefined' && existsSync(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
