/**
 * Which runtime a command drives (docs/architecture.md, "Choosing a runtime"), in this
 * order: --runtime/ECOM_RUNTIME; else the one `up` recorded in the state directory;
 * else kind when a Docker engine answers; else local.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { EcomError, UsageError } from '../core/errors.js';
import { resolveStateDir } from '../core/state-dir.js';
import { RUNTIME_NAMES, createRuntime, isRuntimeName, runtimeAvailable } from './registry.js';
import type { Runtime, RuntimeName, RuntimeSettings } from './types.js';

const DOCKER_PING_TIMEOUT_MS = 500;
/** Where `up` records its choice, inside the state directory. */
export const RUNTIME_RECORD_FILE = 'runtime.json';

export interface DetectOptions {
  cwd: string;
  /** --runtime; commander fills it from ECOM_RUNTIME too, and env is read when it is absent. */
  name?: string;
  env?: NodeJS.ProcessEnv;
  /** Whether a Docker engine answers (tests pass a stand-in). */
  dockerAnswers?: () => Promise<boolean>;
  /** Local runtime only: the broker to use instead of starting one (--amqp-url). */
  amqpUrl?: string;
  /** Settings only the cluster runtimes understand (`up --mesh/--context/--registry/--yes`). */
  clusterSettings?: Pick<RuntimeSettings, 'clusterMesh' | 'contextName' | 'contextRegistry' | 'contextAssumeYes'>;
}

/** How the name was found, strongest first. */
export type ChoiceSource = 'explicit' | 'recorded' | 'detected';

export interface RuntimeChoice {
  runtime: Runtime;
  name: RuntimeName;
  source: ChoiceSource;
  /** Why this runtime, in words: `up` prints it. */
  reason: string;
  stateDir: string;
}

/** The runtime's name and why, without loading any runtime. */
export async function chooseRuntimeName(opts: DetectOptions): Promise<Omit<RuntimeChoice, 'runtime'>> {
  const env = opts.env ?? process.env;
  const stateDir = resolveStateDir(opts.cwd, env);
  const explicit = opts.name ?? (env.ECOM_RUNTIME?.trim() || undefined);
  if (explicit !== undefined) {
    if (!isRuntimeName(explicit)) {
      throw new UsageError(`unknown runtime "${explicit}"; valid: ${RUNTIME_NAMES.join(', ')}`, 'use --runtime local (or fix ECOM_RUNTIME)');
    }
    return { name: explicit, source: 'explicit', reason: 'chosen by --runtime/ECOM_RUNTIME', stateDir };
  }
  const recorded = readRecordedRuntime(stateDir);
  if (recorded) {
    return { name: recorded, source: 'recorded', reason: `recorded by \`ecom up\` in ${join(stateDir, RUNTIME_RECORD_FILE)}`, stateDir };
  }
  if (await (opts.dockerAnswers ?? (() => dockerEngineAnswers(env)))()) {
    if (runtimeAvailable('kind')) return { name: 'kind', source: 'detected', reason: 'a Docker engine answers', stateDir };
    const reason = 'a Docker engine answers, but the kind runtime is not available yet; using local';
    return { name: 'local', source: 'detected', reason, stateDir };
  }
  return { name: 'local', source: 'detected', reason: 'no Docker engine answers', stateDir };
}

/** Chooses the runtime and loads only that one. */
export async function detectRuntime(opts: DetectOptions): Promise<RuntimeChoice> {
  const choice = await chooseRuntimeName(opts);
  const env = opts.env ?? process.env;
  const runtime = await createRuntime(choice.name, { cwd: opts.cwd, stateDir: choice.stateDir, env, amqpUrl: opts.amqpUrl, ...opts.clusterSettings });
  return { ...choice, runtime };
}

/**
 * The runtime a previous `up` recorded here; undefined when none was. A record that
 * exists but cannot be read is an error, not "none": guessing another runtime would
 * have `down` stop nothing and report success while a cluster keeps running.
 */
export function readRecordedRuntime(stateDir: string): RuntimeName | undefined {
  const file = join(stateDir, RUNTIME_RECORD_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw damagedRecord(file, (err as Error).message);
  }
  let record: { runtime?: unknown };
  try {
    record = JSON.parse(text) as { runtime?: unknown };
  } catch {
    throw damagedRecord(file, 'not JSON');
  }
  if (typeof record?.runtime === 'string' && isRuntimeName(record.runtime)) return record.runtime;
  throw damagedRecord(file, `no known runtime in it (${RUNTIME_NAMES.join(', ')})`);
}

function damagedRecord(file: string, why: string): EcomError {
  return new EcomError(
    `the runtime record ${file} is damaged (${why})`,
    `name the runtime with --runtime ${RUNTIME_NAMES.join('|')} (the next \`ecom up\` rewrites the record), or remove the file`,
  );
}

/** Written by `up` before it starts anything, so a failed `up` is still cleaned up by the right runtime. */
export function recordRuntimeChoice(choice: Pick<RuntimeChoice, 'name' | 'reason' | 'stateDir'>, now = new Date()): void {
  mkdirSync(choice.stateDir, { recursive: true, mode: 0o700 });
  const file = join(choice.stateDir, RUNTIME_RECORD_FILE);
  const temporary = `${file}.${process.pid}.tmp`;
  const record = { runtime: choice.name, reason: choice.reason, chosenAt: now.toISOString() };
  writeFileSync(temporary, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}

/** Removed by `down --purge`, with the state directory itself when nothing else is left in it. */
export function forgetRuntimeChoice(stateDir: string): void {
  rmSync(join(stateDir, RUNTIME_RECORD_FILE), { force: true });
  try {
    rmdirSync(stateDir);
  } catch {
    // not empty (someone else's files) or already gone
  }
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
