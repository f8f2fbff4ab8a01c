/**
 * The supervisor's control path (docs/architecture.md, "The loop"): `ecom restart`
 * and `ecom up --watch` ask the running supervisor to restart services through HTTP
 * on a Unix socket in the state directory (mode 0600, so only the user who ran `up`
 * can ask). The supervisor owns the processes; nothing else signals them.
 */
import { chmodSync, rmSync } from 'node:fs';
import { request, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVICE_NAMES, type ServiceName } from '../../core/system.js';
import { stateId } from './paths.js';

/** sun_path holds 108 bytes on Linux (104 on macOS): a longer state directory gets its socket in the temp dir. */
const SOCKET_PATH_MAX_BYTES = 100;
const MAX_BODY_BYTES = 4096;

export function controlSocketPath(stateDir: string): string {
  const inState = join(stateDir, 'control.sock');
  return Buffer.byteLength(inState) <= SOCKET_PATH_MAX_BYTES ? inState : join(tmpdir(), `ecom-${stateId(stateDir)}.sock`);
}

/** One service restarted: the new process is spawned (not yet healthy). */
export type Restarted = { service: ServiceName; pid: number; startedAt: string } | { service: ServiceName; error: string };

/** What the supervisor does for a restart request. */
export type RestartService = (service: ServiceName) => Promise<{ pid: number; startedAt: string }>;

/** The piece of a supervised process a restart needs (runtime/local/supervised.ts). */
export interface Restartable {
  readonly pid: number | undefined;
  readonly startedAt: Date | undefined;
  stop(graceMs: number): Promise<void>;
  start(): void;
}

/**
 * Restarts through the supervisor's own processes: stop (SIGTERM, grace, SIGKILL), then
 * start again. One restart per service at a time; none once the supervisor is stopping,
 * so a restart racing `ecom down` never leaves a process behind.
 */
export function restartThrough(
  services: ReadonlyMap<ServiceName, Restartable>,
  opts: { graceMs: number; stopping: () => boolean; log: (message: string) => void },
): RestartService {
  const queues = new Map<ServiceName, Promise<unknown>>();
  const restartOne = async (service: ServiceName) => {
    const proc = services.get(service);
    if (!proc) throw new Error(`${service} has not started yet`);
    if (opts.stopping()) throw new Error('the supervisor is stopping');
    opts.log(`${service}: restart asked; stopping pid ${proc.pid ?? '-'}`);
    await proc.stop(opts.graceMs);
    if (opts.stopping()) throw new Error('the supervisor is stopping');
    proc.start();
    if (!proc.pid) throw new Error(`${service} did not start`);
    opts.log(`${service}: restarted as pid ${proc.pid}`);
    return { pid: proc.pid, startedAt: (proc.startedAt ?? new Date()).toISOString() };
  };
  return (service) => {
    const next = (queues.get(service) ?? Promise.resolve()).catch(() => {}).then(() => restartOne(service));
    queues.set(service, next);
    return next;
  };
}

export interface ControlServer {
  readonly socketPath: string;
  close(): Promise<void>;
}

/** Listens on the state directory's socket: `POST /restart {"services": [...]}` → `{"restarted": [...]}`. */
export async function startControl(stateDir: string, restart: RestartService, log: (message: string) => void): Promise<ControlServer> {
  const socketPath = controlSocketPath(stateDir);
  // Left by a supervisor that was killed: only one supervisor runs per state directory.
  rmSync(socketPath, { force: true });
  const server = createServer((req, res) => void handle(req, res, restart));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  chmodSync(socketPath, 0o600);
  server.on('error', (err) => log(`control socket: ${err.message}`));
  process.once('exit', () => rmSync(socketPath, { force: true }));
  return {
    socketPath,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, restart: RestartService): Promise<void> {
  const reply = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.method !== 'POST' || req.url !== '/restart') return reply(404, { error: 'POST /restart only' });
  let services: ServiceName[];
  try {
    services = parseServices(await readBody(req));
  } catch (err) {
    return reply(400, { error: (err as Error).message });
  }
  const restarted = await Promise.all(
    services.map(async (service): Promise<Restarted> => {
      try {
        return { service, ...(await restart(service)) };
      } catch (err) {
        return { service, error: (err as Error).message };
      }
    }),
  );
  reply(200, { restarted });
}

function parseServices(body: string): ServiceName[] {
  const parsed = JSON.parse(body) as { services?: unknown };
  const list = parsed.services;
  if (!Array.isArray(list) || list.length === 0) throw new Error('services: a non-empty list of service names');
  for (const name of list) {
    if (!(SERVICE_NAMES as readonly unknown[]).includes(name)) throw new Error(`services: unknown service ${JSON.stringify(name)}`);
  }
  return [...new Set(list as ServiceName[])];
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > MAX_BODY_BYTES) req.destroy(new Error('body too large'));
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

/**
 * Asks the supervisor of `stateDir` to restart `services`; resolves once each new
 * process is spawned (or failed to be). Rejects when no supervisor listens.
 */
export function requestRestart(stateDir: string, services: readonly ServiceName[], timeoutMs: number): Promise<Restarted[]> {
  const body = JSON.stringify({ services });
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath: controlSocketPath(stateDir), path: '/restart', method: 'POST', timeout: timeoutMs, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          try {
            const parsed = JSON.parse(text) as { restarted?: Restarted[]; error?: string };
            if (res.statusCode !== 200 || !parsed.restarted) reject(new Error(parsed.error ?? `the supervisor answered ${res.statusCode}`));
            else resolve(parsed.restarted);
          } catch {
            reject(new Error(`the supervisor answered ${res.statusCode} with no JSON`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`the supervisor did not answer within ${Math.round(timeoutMs / 1000)} s`)));
    req.on('error', reject);
    req.end(body);
  });
}
