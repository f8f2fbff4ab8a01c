/**
 * The runtimes ecom knows, each behind a lazy import: only the chosen runtime's
 * modules load, so `ecom status` on the local runtime never loads a Kubernetes client
 * (docs/architecture.md, "Choosing a runtime"). Adding a runtime is one line in
 * RUNTIME_LOADERS.
 */
import { PrerequisiteError } from '../core/errors.js';
import type { Runtime, RuntimeName, RuntimeSettings } from './types.js';

/** Every name `--runtime`/ECOM_RUNTIME accepts, available or not (in the order detection prefers them). */
export const RUNTIME_NAMES = ['kind', 'context', 'local'] as const satisfies readonly RuntimeName[];

type RuntimeLoader = (settings: RuntimeSettings) => Promise<Runtime>;

/** undefined: a runtime this version does not have yet; choosing it is a RuntimeUnavailableError. */
const RUNTIME_LOADERS: Record<RuntimeName, RuntimeLoader | undefined> = {
  kind: async (settings) => new (await import('./kind/runtime.js')).KindRuntime(settings),
  context: async (settings) => new (await import('./context/runtime.js')).ContextRuntime(settings),
  local: async (settings) => new (await import('./local/runtime.js')).LocalRuntime(settings),
};

/** A runtime that exists by name but not in this version of ecom: its own error (exit 3). */
export class RuntimeUnavailableError extends PrerequisiteError {
  constructor(readonly runtime: RuntimeName) {
    super(`the ${runtime} runtime is not available in this version of ecom`, 'use --runtime local (or unset ECOM_RUNTIME)');
    this.name = 'RuntimeUnavailableError';
  }
}

export function isRuntimeName(name: string): name is RuntimeName {
  return (RUNTIME_NAMES as readonly string[]).includes(name);
}

export function runtimeAvailable(name: RuntimeName): boolean {
  return RUNTIME_LOADERS[name] !== undefined;
}

/** Loads and constructs the named runtime; nothing of the other runtimes is imported. */
export async function createRuntime(name: RuntimeName, settings: RuntimeSettings): Promise<Runtime> {
  const load = RUNTIME_LOADERS[name];
  if (!load) throw new RuntimeUnavailableError(name);
  return load(settings);
}
