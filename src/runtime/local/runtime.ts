/**
 * The local target (DESIGN section 2): no Docker at all; the four services as child
 * processes of a detached supervisor, embedded PostgreSQL, an own or existing broker,
 * Prometheus when installed. State lives in one directory.
 */
import type { Endpoints } from '../../core/system.js';
import type { DownResult, LogLine, LogOptions, ProgressEvent, Runtime, SystemStatus, UpOptions, UpResult } from '../types.js';
import { readLogs } from './logs.js';
import { statePaths, type StatePaths } from './paths.js';
import { localUp } from './start.js';
import { anythingAlive, computeStatus, endpointsOf } from './status.js';
import { readState } from './state.js';
import { localDown } from './stop.js';

export class LocalRuntime implements Runtime {
  readonly name = 'local' as const;
  readonly paths: StatePaths;

  constructor(readonly stateDir: string) {
    this.paths = statePaths(stateDir);
  }

  up(options: UpOptions): Promise<UpResult> {
    return localUp(this.paths, options);
  }

  status(): Promise<SystemStatus> {
    return computeStatus(readState(this.paths.stateFile));
  }

  logs(options: LogOptions): AsyncIterable<LogLine> {
    return readLogs(this.paths.serviceLog, options);
  }

  async endpoints(): Promise<Endpoints | undefined> {
    const state = readState(this.paths.stateFile);
    return state && anythingAlive(state) ? endpointsOf(state) : undefined;
  }

  down(options: { purge: boolean; progress: (event: ProgressEvent) => void }): Promise<DownResult> {
    return localDown(this.paths, options);
  }
}
