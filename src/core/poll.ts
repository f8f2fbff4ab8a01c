/**
 * The one wait loop of ecom: ask a question again and again until it has an answer,
 * a deadline passes or an abort signal fires, waiting longer between tries up to a
 * cap. Every runtime, the smoke suite and the tests wait through it, so a wait always
 * has a deadline and a timeout always says what was awaited (docs/architecture.md,
 * "Core helpers").
 */
import { TimeoutError } from './errors.js';

/** Time as pollUntil sees it; tests pass a fake one so back-off runs without waiting. */
export interface Clock {
  /** Milliseconds on a monotonic-enough scale (epoch ms for the system clock). */
  now(): number;
  /** Resolves after `ms`, or early (never rejecting) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
    }),
};

/** What a check is told about the poll it runs in. */
export interface PollAttempt {
  /** 1 for the first try. */
  attempt: number;
  elapsedMs: number;
  remainingMs: number;
  /** Says what is still missing; the timeout message ends with the last one said. */
  waiting(reason: string): void;
}

/** A check's answer: any value other than undefined ends the poll with it; undefined asks again. */
export type PollCheck<T> = (attempt: PollAttempt) => T | undefined | Promise<T | undefined>;

export interface PollOptions {
  /** What is awaited, for the timeout message: "catalog to answer /health". */
  what: string;
  timeoutMs: number;
  /** The first wait between tries. */
  intervalMs?: number;
  /** The longest wait between tries, however many tries failed. */
  maxIntervalMs?: number;
  /** Each wait is the previous one times this (1: a fixed interval). */
  backoff?: number;
  signal?: AbortSignal;
  clock?: Clock;
  /** The hint of the TimeoutError. */
  hint?: string;
  /** True: an error thrown by the check counts as "not yet" (its message becomes the reason). */
  retryErrors?: boolean;
}

export const DEFAULT_POLL_INTERVAL_MS = 100;

/** The wait before try `attempt + 1`: `intervalMs × backoff^(attempt-1)`, never above the cap. */
export function backoffDelayMs(attempt: number, options: Pick<PollOptions, 'intervalMs' | 'maxIntervalMs' | 'backoff'> = {}): number {
  const first = options.intervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const cap = options.maxIntervalMs ?? (options.backoff && options.backoff > 1 ? Infinity : first);
  return Math.min(cap, first * (options.backoff ?? 1) ** Math.max(0, attempt - 1));
}

/**
 * Runs `check` until it returns a value (resolved with it), the deadline passes
 * (rejects with a TimeoutError naming `what` and the last reason) or `signal` aborts
 * (rejects with the signal's reason). The check always runs at least once, and once
 * more at the deadline, so a short timeout never skips the question.
 */
export async function pollUntil<T>(check: PollCheck<T>, options: PollOptions): Promise<T> {
  const clock = options.clock ?? systemClock;
  const { signal } = options;
  const started = clock.now();
  const deadline = started + options.timeoutMs;
  let reason: string | undefined;
  const waiting = (why: string) => void (reason = why);
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(signal);
    const now = clock.now();
    try {
      const value = await check({ attempt, elapsedMs: now - started, remainingMs: Math.max(0, deadline - now), waiting });
      if (value !== undefined) return value;
    } catch (err) {
      if (!options.retryErrors || signal?.aborted) throw err;
      reason = err instanceof Error ? err.message : String(err);
    }
    throwIfAborted(signal);
    const remaining = deadline - clock.now();
    if (remaining <= 0) throw pollTimeout(options, reason);
    await clock.sleep(Math.min(backoffDelayMs(attempt, options), remaining), signal);
  }
}

/** The TimeoutError pollUntil throws: "timed out after 5 s waiting for X: last reason". */
export function pollTimeout(options: Pick<PollOptions, 'what' | 'timeoutMs' | 'hint'>, reason?: string): TimeoutError {
  const message = `timed out after ${formatMs(options.timeoutMs)} waiting for ${options.what}${reason ? `: ${reason}` : ''}`;
  return new TimeoutError(message, options.hint ?? 'check why it does not happen (see `ecom status` and `ecom logs`), or allow more time');
}

/** `value` when the poll times out instead of a TimeoutError; other errors pass. */
export async function orOnTimeout<T, F>(poll: Promise<T>, fallback: F): Promise<T | F> {
  try {
    return await poll;
  } catch (err) {
    if (err instanceof TimeoutError) return fallback;
    throw err;
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  throw signal.reason instanceof Error ? signal.reason : new DOMException('the wait was aborted', 'AbortError');
}

function formatMs(ms: number): string {
  return ms < 1_000 ? `${ms} ms` : `${Number((ms / 1_000).toFixed(1))} s`;
}
