/**
 * The step runner of the cluster runtimes (src/runtime/cluster/plan.ts): needs are
 * waited for, independent steps run at once, a done step is skipped, a failure stops
 * what has not started and is one line, and the plan describes the same steps.
 */
import { describe, expect, it } from 'vitest';
import { EcomError, ExitCode, PrerequisiteError, ToolError } from '../../../src/core/errors.js';
import { checkOrder, describeSteps, runSteps, stepError, type Step, type StepContext } from '../../../src/runtime/cluster/plan.js';
import type { ProgressEvent } from '../../../src/runtime/types.js';
import { ToolRunner } from '../../../src/tools/tool-runner.js';

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}
function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function context(events: ProgressEvent[] = []): StepContext {
  return { tools: new ToolRunner({ env: { PATH: '' } }), progress: (e) => events.push(e), signal: new AbortController().signal, remainingMs: () => 60_000 };
}

/** A step whose action logs `id:start`/`id:end` and waits for `gate` in between. */
function step(id: string, needs: string[], log: string[], gate?: Promise<void>, fail?: Error): Step<StepContext> {
  return {
    id,
    title: `step ${id}`,
    needs,
    actions: [
      {
        planned: [{ kind: 'task', lines: [`do ${id}`] }],
        run: async () => {
          log.push(`${id}:start`);
          await gate;
          log.push(`${id}:end`);
          if (fail) throw fail;
        },
      },
    ],
  };
}

describe('runSteps', () => {
  it('starts independent steps at once and a step only after all its needs', async () => {
    const log: string[] = [];
    const a = deferred();
    const b = deferred();
    const running = runSteps([step('a', [], log, a.promise), step('b', [], log, b.promise), step('c', ['a', 'b'], log)], context(), new AbortController());
    await new Promise((r) => setTimeout(r, 10));
    expect(log).toEqual(['a:start', 'b:start']);
    b.resolve();
    await new Promise((r) => setTimeout(r, 10));
    expect(log).toEqual(['a:start', 'b:start', 'b:end']);
    a.resolve();
    const reports = await running;
    expect(log).toEqual(['a:start', 'b:start', 'b:end', 'a:end', 'c:start', 'c:end']);
    expect(reports.map((r) => `${r.id} ${r.outcome}`)).toEqual(['a done', 'b done', 'c done']);
  });

  it('skips a step whose check finds it done, and one whose actions changed nothing', async () => {
    const events: ProgressEvent[] = [];
    const checked: Step<StepContext> = { ...step('x', [], []), check: { describe: 'x exists', done: async () => 'x exists' } };
    const unchanged: Step<StepContext> = {
      id: 'y', title: 'step y', needs: ['x'],
      actions: [{ planned: [], run: async () => ({ detail: '3 unchanged', unchanged: true }) }],
    };
    const reports = await runSteps([checked, unchanged], context(events), new AbortController());
    expect(reports.map((r) => [r.outcome, r.detail])).toEqual([['skipped', 'x exists'], ['skipped', '3 unchanged']]);
    expect(events).toEqual([
      { kind: 'skip', task: 'step x', reason: 'x exists' },
      { kind: 'start', task: 'step y' },
      { kind: 'skip', task: 'step y', reason: '3 unchanged' },
    ]);
  });

  it('after a failure starts nothing new, lets running steps finish, then throws the first failure', async () => {
    const log: string[] = [];
    const slow = deferred();
    const abort = new AbortController();
    const running = runSteps(
      [step('fails', [], log, undefined, new Error('boom')), step('slow', [], log, slow.promise), step('after-slow', ['slow'], log), step('after-fail', ['fails'], log)],
      context(),
      abort,
    ).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 10));
    expect(abort.signal.aborted).toBe(true);
    slow.resolve();
    const err = (await running) as EcomError;
    expect(err.message).toBe('step fails: boom');
    expect(err.exitCode).toBe(ExitCode.failed);
    expect(log).toEqual(['fails:start', 'slow:start', 'fails:end', 'slow:end']);
  });
});

describe('stepError', () => {
  it('makes a failing tool one line with its last stderr lines, the whole tail kept as detail', () => {
    const tail = 'Creating cluster "ecom" ...\n ✗ Preparing nodes 📦\nERROR: failed to create cluster: exit status 125\nCommand Output: port is already allocated.';
    const err = stepError({ title: 'kind cluster ecom' }, new ToolError('kind', 'kind create cluster --name ecom', 1, tail, 'free the port'));
    expect(err.message).toBe(
      'kind cluster ecom: kind failed (exit 1): kind create cluster --name ecom: ✗ Preparing nodes 📦 | ERROR: failed to create cluster: exit status 125 | Command Output: port is already allocated.',
    );
    expect([err.hint, err.exitCode, err.detail]).toEqual(['free the port', 1, tail]);
  });

  it('keeps the kind of error and its exit code', () => {
    const err = stepError({ title: 'prerequisites' }, new PrerequisiteError('helm is not installed', 'install helm'));
    expect(err).toBeInstanceOf(PrerequisiteError);
    expect([err.message, err.exitCode]).toEqual(['prerequisites: helm is not installed', ExitCode.prerequisite]);
  });
});

describe('describeSteps and checkOrder', () => {
  it('describes each step with its needs, check and actions, from the same list', () => {
    const steps: Array<Step<StepContext>> = [
      { ...step('a', [], []), check: { describe: 'a is there', argv: ['tool', 'get'], done: async () => undefined } },
      step('b', ['a'], []),
    ];
    expect(describeSteps(steps)).toEqual([
      { id: 'a', title: 'step a', needs: [], check: { describe: 'a is there', argv: ['tool', 'get'] }, actions: [{ kind: 'task', lines: ['do a'] }] },
      { id: 'b', title: 'step b', needs: ['a'], actions: [{ kind: 'task', lines: ['do b'] }] },
    ]);
  });

  it('refuses a step that needs a later or unknown one', () => {
    expect(() => checkOrder([step('b', ['a'], []), step('a', [], [])])).toThrow('plan: step "b" needs a, which no earlier step is');
  });
});
