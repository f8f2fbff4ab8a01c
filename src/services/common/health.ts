import type { RequestHandler } from 'express';

/**
 * A dependency check. `critical` checks turn /health into 503 when they fail; the
 * others (a broker behind an outbox, say) are reported but leave the service ready,
 * because it still does its job and catches up when the dependency returns.
 */
export interface HealthCheck {
  name: string;
  critical?: boolean;
  check: () => Promise<void>;
}

export interface HealthReport {
  status: 'ok' | 'degraded' | 'unavailable';
  checks: Record<string, { ok: boolean; critical: boolean; error?: string }>;
}

const CHECK_TIMEOUT_MS = 2_000;

export async function runHealthChecks(checks: HealthCheck[]): Promise<HealthReport> {
  const results = await Promise.all(
    checks.map(async (c) => {
      const critical = c.critical ?? true;
      try {
        await withTimeout(c.check(), CHECK_TIMEOUT_MS, `${c.name} did not answer within ${CHECK_TIMEOUT_MS} ms`);
        return [c.name, { ok: true, critical }] as const;
      } catch (err) {
        return [c.name, { ok: false, critical, error: (err as Error).message || String(err) }] as const;
      }
    }),
  );
  const report: HealthReport = { status: 'ok', checks: Object.fromEntries(results) };
  for (const [, r] of results) {
    if (!r.ok && r.critical) report.status = 'unavailable';
    else if (!r.ok && report.status === 'ok') report.status = 'degraded';
  }
  return report;
}

export function healthHandler(checks: HealthCheck[]): RequestHandler {
  return async (_req, res) => {
    const report = await runHealthChecks(checks);
    if (report.status === 'unavailable') {
      const failing = Object.entries(report.checks)
        .filter(([, r]) => !r.ok && r.critical)
        .map(([name, r]) => ({ field: name, message: r.error ?? 'failed' }));
      res.status(503).json({
        ...report,
        error: {
          code: 'dependency_unavailable',
          message: `unavailable: ${failing.map((f) => f.field).join(', ')}`,
          details: failing,
        },
      });
      return;
    }
    res.json(report);
  };
}

export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
