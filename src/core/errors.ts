/**
 * Every failure the CLI reports. main.ts renders them as one line of what failed plus
 * one line of what to do, and sets the exit code; nothing else sets it.
 */

export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  prerequisite: 3,
  timeout: 124,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class EcomError extends Error {
  constructor(
    message: string,
    readonly hint: string,
    readonly exitCode: ExitCode = ExitCode.failed,
    /** Shown only with --verbose. */
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'EcomError';
  }
}

export class UsageError extends EcomError {
  constructor(message: string, hint: string) {
    super(message, hint, ExitCode.usage);
    this.name = 'UsageError';
  }
}

export class PrerequisiteError extends EcomError {
  constructor(message: string, hint: string, detail?: string) {
    super(message, hint, ExitCode.prerequisite, detail);
    this.name = 'PrerequisiteError';
  }
}

export class TimeoutError extends EcomError {
  constructor(message: string, hint: string, detail?: string) {
    super(message, hint, ExitCode.timeout, detail);
    this.name = 'TimeoutError';
  }
}

/** An external program failed: printed as a command that can be pasted into a shell. */
export class ToolError extends EcomError {
  constructor(
    readonly tool: string,
    readonly command: string,
    readonly toolExitCode: number | undefined,
    readonly stderrTail: string,
    hint: string,
  ) {
    super(`${tool} failed (exit ${toolExitCode ?? 'signal'}): ${command}`, hint, ExitCode.failed, stderrTail);
    this.name = 'ToolError';
  }
}

/** A bug in ecom itself. */
export class InternalError extends EcomError {
  constructor(cause: unknown) {
    const message = cause instanceof Error ? cause.message : String(cause);
    super(
      `internal error: ${message}`,
      'this is a bug in ecom; rerun with --verbose and report the output',
      ExitCode.failed,
      cause instanceof Error ? cause.stack : undefined,
    );
    this.name = 'InternalError';
  }
}
