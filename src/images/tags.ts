/**
 * Image tags computed from the image's inputs (docs/architecture.md, "Images"): the
 * same tree always gives the same tag, and a change to one service's sources changes
 * that service's tag alone, so an unchanged image is never rebuilt, pushed or loaded.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { SERVICE_NAMES, type ServiceName } from '../core/system.js';

/** Files outside src/services that every image's build reads. */
export const SHARED_INPUT_FILES = [
  'Dockerfile',
  '.dockerignore',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsup.config.ts',
  // Run in the build stage to assemble the runtime files.
  'src/images/runtime-package.ts',
] as const;

/** Source folders every image's build reads. */
export const SHARED_INPUT_DIRS = ['src/services/common'] as const;

/** Hex digits kept from the sha256: 48 bits, plenty for one repository's history. */
export const TAG_LENGTH_CHARS = 12;

/** `ecom/catalog`: the repository part of an image reference, without a registry. */
export function imageRepository(service: ServiceName): string {
  return `ecom/${service}`;
}

/** Relative paths (always with `/`) of the regular files under dir, or none when it is absent. */
async function filesUnder(root: string, dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(join(root, dir), { withFileTypes: true, recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join('/'));
}

/** The relative paths one service's image is built from, sorted. */
export async function imageInputs(root: string, service: ServiceName): Promise<string[]> {
  const dirs = [...SHARED_INPUT_DIRS, `src/services/${service}`];
  const listed = await Promise.all(dirs.map((dir) => filesUnder(root, dir)));
  return [...SHARED_INPUT_FILES, ...listed.flat()].sort();
}

/**
 * sha256 over each input's path and content, length-prefixed so no two trees hash the
 * same by moving bytes between a path and a file. An absent root file (no .dockerignore
 * yet) is hashed as absent, so creating it changes the tag.
 */
async function hashInputs(root: string, paths: string[], contents: Map<string, Promise<Buffer | undefined>>): Promise<string> {
  const hash = createHash('sha256');
  for (const path of paths) {
    let content = contents.get(path);
    if (!content) {
      content = readFile(join(root, path)).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      });
      contents.set(path, content);
    }
    const bytes = await content;
    hash.update(`${Buffer.byteLength(path)}:${path}\0`);
    hash.update(bytes === undefined ? 'absent\0' : `${bytes.length}:`);
    if (bytes) hash.update(bytes);
  }
  return hash.digest('hex').slice(0, TAG_LENGTH_CHARS);
}

/** The input-hash tag of every service's image in the tree at root. */
export async function imageTags(root: string): Promise<Record<ServiceName, string>> {
  // Shared files are read once for all four images.
  const contents = new Map<string, Promise<Buffer | undefined>>();
  const tags = await Promise.all(
    SERVICE_NAMES.map(async (service) => hashInputs(root, await imageInputs(root, service), contents)),
  );
  return Object.fromEntries(SERVICE_NAMES.map((service, i) => [service, tags[i]!])) as Record<ServiceName, string>;
}
