/**
 * Tests run the code they are about: the CLI and the services run from dist/, so dist/
 * is rebuilt whenever a source file is newer than the build. The global setup calls
 * this once before any test file starts; helpers call it again (cheap when current) so
 * a single file run by hand is never tested against a stale build.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BUILD_TIMEOUT_MS = 120_000;
const LOCK_WAIT_MS = 120_000;
/** Inputs of the build besides src/. */
const BUILD_INPUTS = ['tsup.config.ts', 'package.json', 'package-lock.json', 'tsconfig.json'];

let checked = false;

/** Builds dist (serialised across processes by a lock directory) unless it is current. */
export function ensureBuilt(): void {
  if (checked) return;
  const lock = join(tmpdir(), 'ecom-test-build.lock');
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`build lock ${lock} held for ${LOCK_WAIT_MS / 1000} s; remove it if stale`);
      spawnSync('sleep', ['0.2']);
    }
  }
  try {
    if (!isCurrent()) {
      const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8', timeout: BUILD_TIMEOUT_MS });
      if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}\n${build.stderr}`);
    }
    checked = true;
  } finally {
    rmdirSync(lock);
  }
}

/** Every built file is newer than every input (tsup rewrites all of dist on a build). */
export function isCurrent(): boolean {
  const dist = join(ROOT, 'dist');
  if (!existsSync(join(dist, 'cli', 'main.js'))) return false;
  const oldestBuilt = mtimes(dist).reduce((a, b) => Math.min(a, b), Infinity);
  const newestInput = Math.max(...mtimes(join(ROOT, 'src')), ...BUILD_INPUTS.map((f) => statSync(join(ROOT, f)).mtimeMs));
  return newestInput <= oldestBuilt;
}

function mtimes(dir: string): number[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? mtimes(path) : [statSync(path).mtimeMs];
  });
}
