/**
 * Where the local runtime keeps things. The state directory (core/state-dir.ts)
 * holds state, secrets, logs and data; only PostgreSQL's data may live
 * elsewhere (see `postgresDataDir`).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packageRoot } from '../../services/common/paths.js';
import type { LogSource } from '../../core/log-merge.js';
import type { ServiceName } from '../../core/system.js';

export interface StatePaths {
  stateDir: string;
  stateFile: string;
  planFile: string;
  secretsFile: string;
  logsDir: string;
  supervisorLog: string;
  rabbitDir: string;
  prometheusDir: string;
  serviceLog: (service: ServiceName) => string;
  /** The log file of a service or a dependency (`ecom logs postgres`). */
  logFile: (source: LogSource) => string;
}

/** Dependencies' log files, by the name `ecom logs` takes. */
const DEPENDENCY_LOG_FILES: Record<Exclude<LogSource, ServiceName>, string> = {
  postgres: 'postgres.log',
  broker: 'rabbitmq.log',
  prometheus: 'prometheus.log',
  supervisor: 'supervisor.log',
};

export function statePaths(stateDir: string): StatePaths {
  const logsDir = join(stateDir, 'logs');
  return {
    stateDir,
    stateFile: join(stateDir, 'state.json'),
    planFile: join(stateDir, 'plan.json'),
    secretsFile: join(stateDir, 'secrets.json'),
    logsDir,
    supervisorLog: join(logsDir, 'supervisor.log'),
    rabbitDir: join(stateDir, 'rabbitmq'),
    prometheusDir: join(stateDir, 'prometheus'),
    serviceLog: (service) => join(logsDir, `${service}.log`),
    logFile: (source) => join(logsDir, source in DEPENDENCY_LOG_FILES ? DEPENDENCY_LOG_FILES[source as keyof typeof DEPENDENCY_LOG_FILES] : `${source}.log`),
  };
}

/** A short stable id of a state directory: node names and fallback dirs use it. */
export function stateId(stateDir: string): string {
  return createHash('sha256').update(resolve(stateDir)).digest('hex').slice(0, 10);
}

/**
 * The data directory PostgreSQL gets. As root, PostgreSQL runs as `postgres`, which
 * cannot reach a state directory under a 0700 home (/root/…, a mkdtemp dir); then the
 * data lives under /var/tmp/ecom-<id>/ instead (deterministic, so `down --purge`
 * finds it even without a state file).
 */
export function postgresDataDir(stateDir: string, reachableByPostgres: boolean): string {
  return reachableByPostgres ? join(stateDir, 'postgres') : join(fallbackDataRoot(stateDir), 'postgres');
}

export function fallbackDataRoot(stateDir: string): string {
  return join('/var/tmp', `ecom-${stateId(stateDir)}`);
}

/** The built files the local runtime runs. */
export interface BuiltFiles {
  root: string;
  supervisor: string;
  services: Record<ServiceName, string>;
}

export function builtFiles(root: string = packageRoot()): BuiltFiles {
  const service = (name: ServiceName) => join(root, 'dist', 'services', name, 'main.js');
  return {
    root,
    supervisor: join(root, 'dist', 'runtime', 'local', 'supervisor.js'),
    services: { catalog: service('catalog'), search: service('search'), order: service('order'), frontend: service('frontend') },
  };
}

export function missingBuiltFiles(files: BuiltFiles): string[] {
  return [files.supervisor, ...Object.values(files.services)].filter((f) => !existsSync(f));
}
