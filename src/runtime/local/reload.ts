/**
 * The loop on the local runtime (docs/architecture.md, "The loop"): rebuild the
 * services' part of dist/ (service-build.ts) and have the supervisor restart the
 * changed services (control.ts), then wait for each /health. The ports are fixed, so
 * the old process stops before the new one starts; a failed build never gets that far.
 */
import { closeSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { probeHealth } from '../../core/health-probe.js';
import { pollUntil } from '../../core/poll.js';
import { SERVICE_NAMES, type ServiceName } from '../../core/system.js';
import { packageRoot } from '../../services/common/paths.js';
import type { BuildOutcome, Reloader, RestartOptions, RestartOutcome } from '../types.js';
import { controlSocketPath, requestRestart } from './control.js';
import type { StatePaths } from './paths.js';
import { ownerOf, ServiceBuilder, type ServiceCode } from './service-build.js';
import { readState } from './state.js';

const CONTROL_TIMEOUT_MS = 30_000;
const HEALTH_POLL_MS = 25;
const HEALTH_MAX_POLL_MS = 250;
const LOG_TAIL_BYTES = 8 * 1024;
const LOG_TAIL_LINES = 5;

export class LocalReloader implements Reloader {
  readonly watchPaths: string[];
  private readonly builder: ServiceBuilder;
  /** The last successful build: what the services run once restarted. */
  private last: Record<ServiceName, ServiceCode> | undefined;

  constructor(
    private readonly paths: StatePaths,
    private readonly root: string = packageRoot(),
  ) {
    this.builder = new ServiceBuilder(root);
    this.watchPaths = [join(root, 'src', 'services')];
  }

  async build(changedFiles?: readonly string[]): Promise<BuildOutcome> {
    const started = performance.now();
    const result = await this.builder.build();
    const elapsed = () => Math.round(performance.now() - started);
    if (!result.ok) return { ok: false, error: result.error, elapsedMs: elapsed() };
    const changed = this.last && changedFiles ? this.changedSince(this.last, result.code, changedFiles) : this.stale(result.code);
    const list = SERVICE_NAMES.filter((s) => changed.has(s));
    this.builder.write(result.code, list);
    this.last = result.code;
    return { ok: true, changed: list, elapsedMs: elapsed() };
  }

  /** Services whose code differs from the last build, and owners of changed files the bundles do not contain (SQL, JSON, HTML). */
  private changedSince(previous: Record<ServiceName, ServiceCode>, code: Record<ServiceName, ServiceCode>, files: readonly string[]): Set<ServiceName> {
    const changed = new Set(SERVICE_NAMES.filter((s) => previous[s].hash !== code[s].hash));
    const bundled = new Set(SERVICE_NAMES.flatMap((s) => code[s].inputs));
    for (const file of files) {
      if (bundled.has(file)) continue;
      const owner = ownerOf(this.root, file);
      if (owner === 'all') SERVICE_NAMES.forEach((s) => changed.add(s));
      else if (owner) changed.add(owner);
    }
    return changed;
  }

  /**
   * Without a build to compare with: a service whose sources are newer than its
   * process, or than its built entry (dist/ older than the sources it ran from).
   */
  private stale(code: Record<ServiceName, ServiceCode>): Set<ServiceName> {
    const state = readState(this.paths.stateFile);
    const stale = new Set<ServiceName>();
    for (const service of SERVICE_NAMES) {
      const newest = Math.max(...code[service].inputs.map(mtimeMs), ...filesUnder(join(this.root, 'src', 'services', service)).map(mtimeMs));
      const startedAt = Date.parse(state?.services[service]?.startedAt ?? '') || 0;
      const builtAt = mtimeMs(join(this.root, 'dist', 'services', service, 'main.js'));
      if (newest > startedAt || newest > builtAt) stale.add(service);
    }
    return stale;
  }

  async restart(services: readonly ServiceName[], options: RestartOptions): Promise<RestartOutcome[]> {
    const asked = performance.now();
    const since = () => Math.round(performance.now() - asked);
    let replies;
    try {
      replies = await requestRestart(this.paths.stateDir, services, CONTROL_TIMEOUT_MS);
    } catch (err) {
      const error = `the supervisor did not take the restart (${(err as Error).message} on ${controlSocketPath(this.paths.stateDir)}); is the system up? (ecom status)`;
      return services.map((service) => ({ service, ok: false, restartMs: since(), error }));
    }
    return Promise.all(
      replies.map(async (reply): Promise<RestartOutcome> => {
        const restartMs = since();
        if ('error' in reply) return { service: reply.service, ok: false, restartMs, error: reply.error };
        const detail = `pid ${reply.pid}`;
        const failure = await this.untilHealthy(reply.service, reply.pid, reply.startedAt, options);
        return failure ? { service: reply.service, ok: false, restartMs, detail, error: failure } : { service: reply.service, ok: true, restartMs, healthyMs: since(), detail };
      }),
    );
  }

  /** Undefined once /health answers 200; why not, when the new process exits first or the time runs out. */
  private async untilHealthy(service: ServiceName, pid: number, startedAt: string, options: RestartOptions): Promise<string | undefined> {
    try {
      await pollUntil(
        async (attempt) => {
          const record = readState(this.paths.stateFile)?.services[service];
          const exit = record?.lastExit;
          // The exit of the new process, not the one the restart stopped (both can fall in
          // the same millisecond, so the time alone cannot tell them apart).
          // State written by a supervisor that did not record pids has the time only.
          if (exit && (exit.pid !== undefined ? exit.pid === pid : exit.at > startedAt)) throw new Error(`exited (${exit.signal ?? `code ${exit.code}`}) after its restart`);
          const probe = await probeHealth(record?.url ?? '');
          if (probe.health === 'ok') return true;
          attempt.waiting(`${probe.health}${probe.detail ? ` (${probe.detail})` : ''}`);
          return undefined;
        },
        { what: `${service} to answer /health`, timeoutMs: options.timeoutMs, intervalMs: HEALTH_POLL_MS, maxIntervalMs: HEALTH_MAX_POLL_MS, backoff: 1.5, signal: options.signal },
      );
      return undefined;
    } catch (err) {
      if (options.signal?.aborted) return 'interrupted';
      const tail = lastLogLines(this.paths.serviceLog(service));
      return `${(err as Error).message}${tail ? `; its last log lines:\n${tail}` : ''}`;
    }
  }

  close(): Promise<void> {
    return this.builder.dispose();
  }
}

function mtimeMs(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true, recursive: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name));
  } catch {
    return [];
  }
}

/** The last few lines of a log file, each shortened, for a failure message. */
function lastLogLines(file: string): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = statSync(file).size;
    const length = Math.min(size, LOG_TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split('\n').filter((l) => l.trim() !== '');
    return lines
      .slice(-LOG_TAIL_LINES)
      .map((l) => `    ${l.length > 300 ? `${l.slice(0, 300)}…` : l}`)
      .join('\n');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
