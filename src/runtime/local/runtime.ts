/**
 * The local target (docs/architecture.md, "local"): no Docker at all; the four services
 * as child processes of a detached supervisor, embedded PostgreSQL, an own or existing
 * broker, Prometheus when installed. State lives in one directory.
 */
import type { Endpoints } from '../../core/system.js';
import type { DownOptions, DownResult, LogLine, LogOptions, Reloader, Runtime, RuntimeSettings, SystemAccess, SystemStatus, UpOptions, UpResult } from '../types.js';
import { localAccess } from './connections.js';
import { readLogs } from './logs.js';
import { statePaths, type StatePaths } from './paths.js';
import { localUp } from './start.js';
import { anythingAlive, computeStatus, endpointsOf } from './status.js';
import { readState } from './state.js';
import { localDown } from './stop.js';

export class LocalRuntime implements Runtime {
  readonly name = 'local' as const;
  readonly paths: StatePaths;
  /** The broker to use instead of starting one: --amqp-url, else AMQP_URL. */
  private readonly amqpUrl: string | undefined;

  constructor(settings: Pick<RuntimeSettings, 'stateDir'> & Partial<RuntimeSettings>) {
    this.paths = statePaths(settings.stateDir);
    this.amqpUrl = settings.amqpUrl ?? ((settings.env ?? process.env).AMQP_URL || undefined);
  }

  get stateDir(): string {
    return this.paths.stateDir;
  }

  up(options: UpOptions): Promise<UpResult> {
    return localUp(this.paths, options, { amqpUrl: this.amqpUrl });
  }

  status(): Promise<SystemStatus> {
    return computeStatus(readState(this.paths.stateFile));
  }

  logs(options: LogOptions): AsyncIterable<LogLine> {
    return readLogs(this.paths.logsDir, this.paths.logFile, options);
  }

  async endpoints(): Promise<Endpoints | undefined> {
    const state = readState(this.paths.stateFile);
    return state && anythingAlive(state) ? endpointsOf(state) : undefined;
  }

  async access(): Promise<SystemAccess | undefined> {
    return localAccess(this.paths, readState(this.paths.stateFile));
  }

  down(options: DownOptions): Promise<DownResult> {
    return localDown(this.paths, options);
  }

  /** Rebuilds dist/ for the services and restarts them through the supervisor (reload.ts). */
  async reloader(): Promise<Reloader> {
    const { LocalReloader } = await import('./reload.js');
    return new LocalReloader(this.paths);
  }
}
