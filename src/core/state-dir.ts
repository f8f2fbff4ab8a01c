/**
 * The one state directory of a project (`<cwd>/.ecom`, or `$ECOM_HOME`): whichever
 * runtime runs the system keeps its state, secrets and logs there, and the runtime
 * `up` chose is recorded in it (docs/architecture.md, "Choosing a runtime").
 */
import { resolve } from 'node:path';

export function resolveStateDir(cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const home = env.ECOM_HOME;
  return home && home.trim() !== '' ? resolve(cwd, home) : resolve(cwd, '.ecom');
}
