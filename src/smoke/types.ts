import type { Endpoints } from '../core/system.js';

export type CheckStatus = 'passed' | 'failed' | 'skipped';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  durationMs: number;
  /** Why it failed or was skipped (what was seen), or a note on a pass. */
  message?: string;
}

export interface SmokeReport {
  ok: boolean;
  passed: number;
  failed: number;
  skipped: number;
  durationMs: number;
  startedAt: string;
  results: CheckResult[];
}

export interface CheckContext {
  endpoints: Endpoints;
  /** Aborts when the check's deadline passes (or the whole run is interrupted). */
  signal: AbortSignal;
  /** Milliseconds left before the check's deadline. */
  remainingMs(): number;
  /** Records the latest observation, reported if the deadline passes first. */
  saw(observation: string): void;
}

export interface SmokeCheck {
  name: string;
  /** The check's own deadline; the suite's --timeout caps it. */
  deadlineMs: number;
  /** Checks in a later phase start when every earlier phase has finished. */
  phase: 1 | 2;
  /** A reason to skip this check with these endpoints, or undefined to run it. */
  skip?(endpoints: Endpoints): string | undefined;
  /** Resolves (with an optional note) on success; throws CheckFailed saying what it saw. */
  run(ctx: CheckContext): Promise<string | void>;
}
