/**
 * `ecom render`: the Kubernetes objects `ecom up` would apply for the kind or context
 * runtime, in apply order, with every secret value redacted (docs/architecture.md,
 * "Manifests"). Offline: no Docker, no cluster, no kubectl.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError } from '../../core/errors.js';
import { imageTags } from '../../images/tags.js';
import type { KubeObject } from '../../manifests/objects.js';
import { OVERLAYS, renderSystem, type Overlay } from '../../manifests/render.js';
import { packageRoot } from '../../services/common/paths.js';

export interface RenderOptions {
  cwd: string;
  runtime?: string;
  registry?: string;
  output?: string;
  json: boolean;
}

export interface RenderDeps {
  /** Where manifests/ and the image inputs live (the installed package by default). */
  root?: string;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

/** Files `render -o` writes: `007-deployment-ecommerce-catalog.yaml`; older ones are replaced. */
const RENDERED_FILE = /^\d{3}-[a-z0-9.-]+\.(yaml|json)$/;

export async function runRender(options: RenderOptions, deps: RenderDeps = {}): Promise<void> {
  const stdout = deps.stdout ?? process.stdout;
  const stderr = deps.stderr ?? process.stderr;
  // `ecom render | head` closes the pipe early: that is the reader's choice, not a failure.
  stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
  const overlay = chooseOverlay(options.runtime);
  if (overlay === 'context' && !options.registry) {
    throw new UsageError(
      'render --runtime context needs the registry the images are pushed to',
      'add --registry R (e.g. --registry registry.example.com:5000/team); images become R/ecom/<service>:<tag>',
    );
  }
  const root = deps.root ?? packageRoot();
  const tags = await imageTags(root);
  const objects = await renderSystem({ root, overlay, registry: options.registry, tags, redact: true });
  const { stringify } = await import('yaml');
  const toYaml = (object: KubeObject) => stringify(object, { lineWidth: 0 });

  if (options.output) {
    const files = await writeObjectFiles(resolve(options.cwd, options.output), objects, options.json ? 'json' : 'yaml', toYaml);
    stderr.write(`wrote ${files.length} objects to ${resolve(options.cwd, options.output)} (secret values redacted)\n`);
    if (options.json) stdout.write(`${JSON.stringify({ ok: true, directory: resolve(options.cwd, options.output), files }, null, 2)}\n`);
    else for (const file of files) stdout.write(`${file}\n`);
    return;
  }
  if (options.json) {
    // A List, so the document can be fed to `kubectl apply -f -` as it is.
    stdout.write(`${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }, null, 2)}\n`);
    return;
  }
  stdout.write(`# ecom render --runtime ${overlay}: ${objects.length} objects in apply order; secret values are redacted\n`);
  stdout.write(objects.map((object) => `---\n${toYaml(object)}`).join(''));
}

function chooseOverlay(runtime: string | undefined): Overlay {
  if (runtime === undefined) return 'kind';
  if ((OVERLAYS as readonly string[]).includes(runtime)) return runtime as Overlay;
  throw new UsageError(
    `the ${runtime} runtime applies no Kubernetes objects, so there is nothing to render`,
    process.env.ECOM_RUNTIME === runtime
      ? `ECOM_RUNTIME=${runtime} is set in your environment; pass --runtime kind or --runtime context`
      : 'use --runtime kind or --runtime context',
  );
}

async function writeObjectFiles(
  dir: string,
  objects: KubeObject[],
  format: 'yaml' | 'json',
  toYaml: (object: KubeObject) => string,
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  // A stale file from an earlier render would be applied too by `kubectl apply -f dir`.
  for (const entry of await readdir(dir)) if (RENDERED_FILE.test(entry)) await rm(join(dir, entry));
  const width = 3;
  const files: string[] = [];
  for (const [index, object] of objects.entries()) {
    const parts = [object.kind, object.metadata.namespace, object.metadata.name].filter(Boolean).join('-').toLowerCase();
    const file = join(dir, `${String(index + 1).padStart(width, '0')}-${parts.replace(/[^a-z0-9.-]/g, '-')}.${format}`);
    await writeFile(file, format === 'json' ? `${JSON.stringify(object, null, 2)}\n` : toYaml(object));
    files.push(file);
  }
  return files;
}
