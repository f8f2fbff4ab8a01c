/**
 * The console for a process that keeps a system up and has no Runtime object of its
 * own (a cluster runtime's forwarder): the runtime is made from the registry, as a
 * command makes it, so the console shows what `ecom status --json` shows
 * (docs/architecture.md, "Console").
 */
import type { RuntimeName } from '../runtime/types.js';
import { startConsole, type RunningConsole } from './server.js';

export interface RuntimeConsoleOptions {
  runtime: RuntimeName;
  stateDir: string;
  port: number;
  env?: NodeJS.ProcessEnv;
}

/** Serves the console on 127.0.0.1:`port`; rejects when the port is taken (the runtime's endpoints name that port). */
export async function startRuntimeConsole(options: RuntimeConsoleOptions): Promise<RunningConsole> {
  const { createRuntime } = await import('../runtime/registry.js');
  const env = options.env ?? process.env;
  const runtime = await createRuntime(options.runtime, { cwd: process.cwd(), stateDir: options.stateDir, env });
  return startConsole({ source: runtime, port: options.port });
}
