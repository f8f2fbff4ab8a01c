/**
 * GET /health of a service, reduced to what status and up need, for every runtime
 * (a local process or a port-forward to a pod answer the same way; docs/architecture.md,
 * "Core helpers"). Plain node:http with no keep-alive: an idle pooled socket would hold
 * the CLI open after its answer.
 */
import { get } from 'node:http';
import { connect } from 'node:net';

export type Health = 'ok' | 'degraded' | 'unavailable' | 'unreachable';

export interface HealthProbe {
  health: Health;
  /** The failing checks named in the body, or the connection error. */
  detail?: string;
  /** Per-check results from the body, when it had them. */
  checks?: Record<string, { ok: boolean; error?: string }>;
}

interface HealthBody {
  status?: string;
  checks?: Record<string, { ok: boolean; error?: string }>;
}

/** GET `url` → status code and body text; rejects on connection errors and after `timeoutMs`. */
export function httpGet(url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, timeout: timeoutMs, headers: { connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
  });
}

export const HEALTH_PROBE_TIMEOUT_MS = 1_000;

export async function probeHealth(baseUrl: string, timeoutMs = HEALTH_PROBE_TIMEOUT_MS): Promise<HealthProbe> {
  let res: { status: number; body: string };
  try {
    res = await httpGet(`${baseUrl}/health`, timeoutMs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { health: 'unreachable', detail: code === 'ECONNREFUSED' ? 'not listening yet' : (code ?? (err as Error).message) };
  }
  let body: HealthBody | undefined;
  try {
    body = JSON.parse(res.body) as HealthBody;
  } catch {
    body = undefined;
  }
  const checks = body?.checks;
  const failing = Object.entries(checks ?? {})
    .filter(([, c]) => !c.ok)
    .map(([name, c]) => `${name}: ${c.error ?? 'failed'}`)
    .join('; ');
  if (res.status === 200) {
    return body?.status === 'degraded' ? { health: 'degraded', detail: failing, checks } : { health: 'ok', checks };
  }
  return { health: 'unavailable', detail: failing || `HTTP ${res.status}`, checks };
}

/** Whether a TCP connection to host:port opens within `timeoutMs`. */
export function tcpAnswers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
