/**
 * The cluster runtimes' `up` as an ordered list of steps (docs/architecture.md, "kind"):
 * each step names the steps it needs first, how it finds itself already done, and
 * what it does. `up` runs the list, each step as soon as its needs are done (so
 * independent steps run at once); `up --dry-run` describes the same list. A command
 * action runs exactly the argv it describes, so the plan and the execution cannot drift.
 */
import { EcomError, ExitCode, ToolError } from '../../core/errors.js';
import type { ToolResult, ToolRunner } from '../../tools/tool-runner.js';
import type { PlannedAction, PlannedStep, ProgressEvent } from '../types.js';

/** An external program and its exact arguments. */
export interface CommandSpec {
  tool: string;
  args: string[];
  /** Written to its stdin. */
  input?: string;
  timeoutMs?: number;
  hint?: string;
}

/** What every step gets while running; a runtime extends it with its own (the cluster client). */
export interface StepContext {
  tools: ToolRunner;
  progress: (event: ProgressEvent) => void;
  /** Aborted when another step failed: long waits stop early. */
  signal: AbortSignal;
  /** Milliseconds left before the deadline of the whole `up`. */
  remainingMs(): number;
}

export interface StepCheck<C extends StepContext> {
  /** What the plan says about it: "kind get clusters lists ecom". */
  describe: string;
  /** The command it asks, when it asks one. */
  argv?: string[];
  /** Why the step is already done (it is skipped), or undefined to run it. */
  done(ctx: C): Promise<string | undefined>;
}

export interface StepAction<C extends StepContext> {
  /** What the plan shows; several entries for an action that runs several commands at once. */
  planned: PlannedAction[];
  /** Does it; what it returns is shown when the step is done. */
  run(ctx: C): Promise<ActionOutcome | string | void>;
}

/** An action that found nothing to change (an apply of unchanged objects) says so. */
export interface ActionOutcome {
  detail?: string;
  unchanged?: boolean;
}

export interface Step<C extends StepContext> {
  id: string;
  title: string;
  needs: string[];
  check?: StepCheck<C>;
  actions: Array<StepAction<C>>;
  /** False for steps that only check or wait: they do not count as work done. */
  changes?: boolean;
}

export type StepOutcome = 'done' | 'skipped' | 'failed' | 'not run';

export interface StepReport {
  id: string;
  title: string;
  outcome: StepOutcome;
  detail?: string;
  changes: boolean;
  startedAt?: number;
  durationMs?: number;
}

/** How many of a failing tool's last stderr lines go into the one-line error. */
const ERROR_STDERR_LINES = 3;
const DEFAULT_COMMAND_TIMEOUT_MS = 5 * 60_000;

/** A step action that runs one command; the plan shows its argv. */
export function commandAction<C extends StepContext>(spec: CommandSpec): StepAction<C> {
  return {
    planned: [{ kind: 'command', argv: [spec.tool, ...spec.args], ...(spec.input === undefined ? {} : { input: spec.input }) }],
    run: async (ctx) => {
      await runCommand(ctx, spec);
    },
  };
}

/** A check that asks a command; `interpret` reads its answer (undefined when it failed). */
export function commandCheck<C extends StepContext>(
  spec: CommandSpec,
  describe: string,
  interpret: (result: ToolResult | undefined) => string | undefined,
): StepCheck<C> {
  return {
    describe,
    argv: [spec.tool, ...spec.args],
    done: async (ctx) => {
      try {
        return interpret(await runCommand(ctx, spec));
      } catch (err) {
        if (err instanceof ToolError) return interpret(undefined);
        throw err;
      }
    },
  };
}

/** Runs a command within the deadline of the whole `up`. */
export function runCommand(ctx: StepContext, spec: CommandSpec): Promise<ToolResult> {
  const timeoutMs = Math.max(1, Math.min(spec.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS, ctx.remainingMs()));
  return ctx.tools.run(spec.tool, spec.args, { timeoutMs, input: spec.input, hint: spec.hint });
}

/** The plan of `up --dry-run`: the same steps, described. */
export function describeSteps<C extends StepContext>(steps: Array<Step<C>>): PlannedStep[] {
  checkOrder(steps);
  return steps.map((step) => ({
    id: step.id,
    title: step.title,
    needs: step.needs,
    ...(step.check ? { check: { describe: step.check.describe, ...(step.check.argv ? { argv: step.check.argv } : {}) } } : {}),
    actions: step.actions.flatMap((action) => action.planned),
  }));
}

/** Every step's needs come earlier in the list, so the list order is an order that works. */
export function checkOrder<C extends StepContext>(steps: Array<Step<C>>): void {
  const seen = new Set<string>();
  for (const step of steps) {
    if (seen.has(step.id)) throw new Error(`plan: step "${step.id}" appears twice`);
    const missing = step.needs.filter((need) => !seen.has(need));
    if (missing.length > 0) throw new Error(`plan: step "${step.id}" needs ${missing.join(', ')}, which no earlier step is`);
    seen.add(step.id);
  }
}

/**
 * Runs the steps, each once its needs are done. After a failure no further step
 * starts and the running ones finish (nothing is left half-done behind the error);
 * then the first failure is thrown, as one line naming the step.
 */
export async function runSteps<C extends StepContext>(steps: Array<Step<C>>, ctx: C, abort: AbortController): Promise<StepReport[]> {
  checkOrder(steps);
  const reports = new Map<string, StepReport>();
  const finished = new Map<string, Promise<boolean>>();
  let firstFailure: unknown;
  const runOne = async (step: Step<C>): Promise<boolean> => {
    const needsOk = (await Promise.all(step.needs.map((need) => finished.get(need)!))).every(Boolean);
    const report: StepReport = { id: step.id, title: step.title, outcome: 'not run', changes: step.changes ?? true };
    reports.set(step.id, report);
    if (!needsOk || firstFailure !== undefined) return false;
    report.startedAt = Date.now();
    try {
      await executeStep(step, ctx, report);
      return true;
    } catch (err) {
      report.outcome = 'failed';
      firstFailure ??= stepError(step, err);
      abort.abort();
      return false;
    } finally {
      report.durationMs = Date.now() - report.startedAt;
    }
  };
  for (const step of steps) finished.set(step.id, runOne(step));
  await Promise.all(finished.values());
  if (firstFailure !== undefined) throw firstFailure;
  return steps.map((step) => reports.get(step.id)!);
}

async function executeStep<C extends StepContext>(step: Step<C>, ctx: C, report: StepReport): Promise<void> {
  const skip = step.check ? await step.check.done(ctx) : undefined;
  if (skip !== undefined) {
    report.outcome = 'skipped';
    report.detail = skip;
    ctx.progress({ kind: 'skip', task: step.title, reason: skip });
    return;
  }
  ctx.progress({ kind: 'start', task: step.title });
  const details: string[] = [];
  let unchanged = step.actions.length > 0;
  for (const action of step.actions) {
    const result = await action.run(ctx);
    const outcome: ActionOutcome = typeof result === 'string' ? { detail: result } : (result ?? {});
    if (outcome.detail) details.push(outcome.detail);
    unchanged &&= outcome.unchanged === true;
  }
  if (details.length > 0) report.detail = details.join('; ');
  if (unchanged) {
    report.outcome = 'skipped';
    ctx.progress({ kind: 'skip', task: step.title, reason: report.detail ?? 'nothing changed' });
    return;
  }
  report.outcome = 'done';
  ctx.progress({ kind: 'done', task: step.title, ...(report.detail ? { detail: report.detail } : {}) });
}

/**
 * One line: the step, what failed and, for a tool, the last lines of its stderr; the
 * whole tail stays in the detail (--verbose). Exit codes are kept (a timeout is 124).
 */
export function stepError(step: { title: string }, err: unknown): EcomError {
  if (err instanceof ToolError) {
    const lines = err.stderrTail.split('\n').map((l) => l.trim()).filter(Boolean).slice(-ERROR_STDERR_LINES);
    const said = lines.length > 0 ? `: ${lines.join(' | ')}` : '';
    return new EcomError(`${step.title}: ${err.message}${said}`, err.hint, ExitCode.failed, err.stderrTail);
  }
  if (err instanceof EcomError) {
    if (err.message.startsWith(`${step.title}:`)) return err;
    // The same kind of error (a PrerequisiteError stays one), its message led by the step.
    const wrapped = Object.assign(Object.create(Object.getPrototypeOf(err) as object) as EcomError, err);
    Object.defineProperty(wrapped, 'message', { value: `${step.title}: ${err.message}`, writable: true, configurable: true });
    Object.defineProperty(wrapped, 'stack', { value: err.stack, writable: true, configurable: true });
    return wrapped;
  }
  return new EcomError(
    `${step.title}: ${err instanceof Error ? err.message : String(err)}`,
    'rerun with --verbose for detail; `ecom up` picks up where it stopped',
    ExitCode.failed,
    err instanceof Error ? err.stack : undefined,
  );
}
