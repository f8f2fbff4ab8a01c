/**
 * Runs the smoke checks against any runtime's Endpoints: independent checks at once,
 * each under its own deadline (capped by the suite's), results in definition order.
 */
import type { Endpoints } from '../core/system.js';
import { CheckFailed, connectionError } from './http.js';
import { smokeChecks, DEFAULT_DEADLINES, type CheckDeadlines } from './checks.js';
import type { CheckResult, SmokeCheck, SmokeReport } from './types.js';

export interface SmokeOptions {
  /** Deadline for the whole suite. */
  timeoutMs: number;
  /** Per-check deadlines (tests shorten them). */
  deadlines?: Partial<CheckDeadlines>;
  /** Replaces the standard checks (tests). */
  checks?: SmokeCheck[];
  onStart?: (check: SmokeCheck) => void;
  onResult?: (result: CheckResult) => void;
  /** Interrupts the whole run (Ctrl-C). */
  signal?: AbortSignal;
}

export async function runSmokeSuite(endpoints: Endpoints, options: SmokeOptions): Promise<SmokeReport> {
  const started = Date.now();
  const suiteDeadline = started + options.timeoutMs;
  const checks = options.checks ?? smokeChecks({ ...DEFAULT_DEADLINES, ...options.deadlines });
  const results = new Map<SmokeCheck, CheckResult>();
  const run = async (check: SmokeCheck) => {
    options.onStart?.(check);
    const result = await runCheck(check, endpoints, Math.min(check.deadlineMs, suiteDeadline - Date.now()), options.signal);
    results.set(check, result);
    options.onResult?.(result);
  };
  for (const phase of [1, 2] as const) {
    await Promise.all(checks.filter((c) => c.phase === phase).map(run));
  }
  const ordered = checks.map((c) => results.get(c)!);
  const count = (status: CheckResult['status']) => ordered.filter((r) => r.status === status).length;
  return {
    ok: count('failed') === 0,
    passed: count('passed'),
    failed: count('failed'),
    skipped: count('skipped'),
    durationMs: Date.now() - started,
    startedAt: new Date(started).toISOString(),
    results: ordered,
  };
}

class DeadlinePassed extends Error {}

export async function runCheck(check: SmokeCheck, endpoints: Endpoints, deadlineMs: number, outer?: AbortSignal): Promise<CheckResult> {
  const started = Date.now();
  const skipReason = check.skip?.(endpoints);
  if (skipReason !== undefined) return { name: check.name, status: 'skipped', durationMs: 0, message: skipReason };

  const controller = new AbortController();
  const budget = Math.max(0, deadlineMs);
  const deadline = started + budget;
  let lastSeen: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new DeadlinePassed());
      controller.abort();
    }, budget);
  });
  const interrupted = () => controller.abort();
  outer?.addEventListener('abort', interrupted, { once: true });
  const done = (status: CheckResult['status'], message?: string): CheckResult => ({
    name: check.name,
    status,
    durationMs: Date.now() - started,
    ...(message ? { message } : {}),
  });
  try {
    const note = await Promise.race([
      check.run({
        endpoints,
        signal: controller.signal,
        remainingMs: () => deadline - Date.now(),
        saw: (observation) => (lastSeen = observation),
      }),
      expired,
    ]);
    return done('passed', note || undefined);
  } catch (err) {
    if (err instanceof DeadlinePassed || (controller.signal.aborted && !outer?.aborted)) {
      return done('failed', `no result within ${formatSeconds(budget)}${lastSeen ? `; last seen: ${lastSeen}` : ''}`);
    }
    if (outer?.aborted) return done('failed', 'interrupted');
    if (err instanceof CheckFailed) return done('failed', err.message);
    return done('failed', `unexpected error: ${connectionError(err)}`);
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', interrupted);
    expired.catch(() => {});
  }
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
