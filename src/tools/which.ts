import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The absolute path of `name` on PATH (plus `extraDirs`, for tools Debian installs to
 * sbin or a versioned lib dir), or undefined. Synchronous and cheap: no subprocess.
 */
export function findExecutable(name: string, env: NodeJS.ProcessEnv = process.env, extraDirs: string[] = []): string | undefined {
  // A path (`/usr/bin/docker`: one client of several installed) is taken as given.
  if (name.includes('/')) return isExecutable(name) ? name : undefined;
  const dirs = [...(env.PATH ?? '').split(delimiter), ...extraDirs].filter(Boolean);
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where Debian puts daemons that are not on a normal user's PATH. */
export const SYSTEM_BIN_DIRS = ['/usr/sbin', '/sbin', '/usr/local/sbin', '/usr/lib/rabbitmq/bin'];
