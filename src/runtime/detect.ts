/**
 * Picks the runtime (DESIGN section 2): --runtime/ECOM_RUNTIME when given, else kind
 * when a Docker engine answers, else local. This version has only `local`, so a
 * Docker engine is noted and local is used.
 */
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { PrerequisiteError, UsageError } from '../core/errors.js';
import { LocalRuntime } from './local/runtime.js';
import { resolveStateDir } from './local/paths.js';
import type { Runtime } from './types.js';

export const KNOWN_RUNTIMES = ['local'] as const;
const PLANNED_RUNTIMES = ['kind', 'context'];
const DOCKER_PING_TIMEOUT_MS = 500;

/** "No runtime available" is its own error (DESIGN section 6). */
export class RuntimeUnavailableError extends PrerequisiteError {
  constructor(name: string) {
    super(`the ${name} runtime is not available in this version of ecom`, 'use --runtime local (or unset ECOM_RUNTIME)');
    this.name = 'RuntimeUnavailableError';
  }
}

export interface RuntimeChoice {
  runtime: Runtime;
  /** Why this runtime: shown by `up`. */
  reason: string;
  stateDir: string;
}

export interface DetectOptions {
  cwd: string;
  name?: string;
  env?: NodeJS.ProcessEnv;
  dockerAnswers?: () => Promise<boolean>;
}

export async function detectRuntime(opts: DetectOptions): Promise<RuntimeChoice> {
  const env = opts.env ?? process.env;
  const stateDir = resolveStateDir(opts.cwd, env);
  const name = opts.name ?? (env.ECOM_RUNTIME || undefined);
  if (name !== undefined) {
    if (name === 'local') return { runtime: new LocalRuntime(stateDir), reason: 'chosen by --runtime/ECOM_RUNTIME', stateDir };
    if (PLANNED_RUNTIMES.includes(name)) throw new RuntimeUnavailableError(name);
    throw new UsageError(`unknown runtime "${name}"; valid: ${KNOWN_RUNTIMES.join(', ')}`, 'use --runtime local');
  }
  const docker = await (opts.dockerAnswers ?? (() => dockerEngineAnswers(env)))();
  const reason = docker
    ? 'a Docker engine answers, but the kind runtime is not available yet; using local'
    : 'no Docker engine answers';
  return { runtime: new LocalRuntime(stateDir), reason, stateDir };
}

/** The runtime for commands that do not print why (logs, smoke). */
export async function resolveRuntime(opts: { cwd: string; name?: string }): Promise<Runtime> {
  return (await detectRuntime({ ...opts, dockerAnswers: async () => false })).runtime;
}

/** GET /_ping on the Docker socket (DOCKER_HOST when it names one), bounded. */
export function dockerEngineAnswers(env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const host = env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  const target = host.startsWith('unix://')
    ? { socketPath: host.slice('unix://'.length) }
    : host.startsWith('tcp://')
      ? (() => {
          const url = new URL(host.replace(/^tcp:/, 'http:'));
          return { host: url.hostname, port: Number(url.port || 2375) };
        })()
      : undefined;
  if (!target || ('socketPath' in target && !existsSync(target.socketPath))) return Promise.resolve(false);
  return new Promise((resolve) => {
    const req = request({ ...target, path: '/_ping', method: 'GET', timeout: DOCKER_PING_TIMEOUT_MS }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}
