import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The absolute path of `name` on PATH (plus `extraDirs`, for tools Debian installs to
 * sbin or a versioned lib dir), or undefined. Synchronous and cheap: no subprocess.
 */
export function findExecutable(name: string, env: NodeJS.ProcessEnv = process.env, extraDirs: string[] = []): string | undefined {
  const dirs = [...(env.PATH ?? '').split(delimiter), ...extraDirs].filter(Boolean);
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/** Where Debian puts daemons that are not on a normal user's PATH. */
export const SYSTEM_BIN_DIRS = ['/usr/sbin', '/sbin', '/usr/local/sbin', '/usr/lib/rabbitmq/bin'];
