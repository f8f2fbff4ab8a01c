/** `ecom up` (src/cli/commands/up.ts) against a recording runtime: what it asks for and what it records. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runUp } from '../../../src/cli/commands/up.js';
import { createOutput } from '../../../src/cli/output.js';
import { UsageError } from '../../../src/core/errors.js';
import type { Endpoints } from '../../../src/core/system.js';
import type { RuntimeChoice } from '../../../src/runtime/detect.js';
import type { Runtime, RuntimeName, UpOptions } from '../../../src/runtime/types.js';

const at = (offset: number): Endpoints => ({
  services: {
    catalog: `http://127.0.0.1:${5001 + offset}`,
    search: `http://127.0.0.1:${5002 + offset}`,
    order: `http://127.0.0.1:${5003 + offset}`,
    frontend: `http://127.0.0.1:${5004 + offset}`,
  },
});

/** A runtime recording the options `up` passes it. */
function recordingRuntime(name: RuntimeName = 'local') {
  const asked: Array<Omit<UpOptions, 'progress'>> = [];
  const runtime = {
    name,
    up: async ({ progress: _progress, ...options }: UpOptions) => {
      asked.push(options);
      return { alreadyUp: false, endpoints: at(options.portOffset ?? 0), warnings: [] };
    },
  } as Partial<Runtime> as Runtime;
  return { runtime, asked };
}

function capture() {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const sink = (into: string[]) => new Writable({ write: (c, _e, done) => (into.push(String(c)), done()) });
  const output = createOutput({ json: true, stdout: sink(stdout), stderr: sink(stderr), env: {} });
  return { output, json: () => JSON.parse(stdout.join('')) as { runtime: string; endpoints: Endpoints }, stderr: () => stderr.join('') };
}

let stateDir: string;
beforeEach(() => {
  stateDir = join(mkdtempSync(join(tmpdir(), 'ecom-up-')), '.ecom');
});
afterEach(() => rmSync(join(stateDir, '..'), { recursive: true, force: true }));

const choiceOf = (runtime: Runtime): RuntimeChoice => ({ runtime, name: runtime.name, source: 'detected', reason: 'test', stateDir });

describe('ecom up', () => {
  it('passes --port-offset through as given, and leaves it undefined when not given (each runtime resolves its own ports)', async () => {
    const { runtime, asked } = recordingRuntime();
    for (const portOffset of [undefined, 0, 300]) {
      const out = capture();
      expect(await runUp({ cwd: '/tmp', timeout: 1_000, portOffset, json: true }, { choice: choiceOf(runtime), output: out.output })).toBe(0);
    }
    expect(asked).toEqual([
      { timeoutMs: 1_000, portOffset: undefined },
      { timeoutMs: 1_000, portOffset: 0 },
      { timeoutMs: 1_000, portOffset: 300 },
    ]);
  });

  it('records the runtime it chose in the state directory, for status, logs, smoke and down', async () => {
    const out = capture();
    await runUp({ cwd: '/tmp', timeout: 1_000, json: true }, { choice: choiceOf(recordingRuntime().runtime), output: out.output });
    const record = JSON.parse(readFileSync(join(stateDir, 'runtime.json'), 'utf8')) as Record<string, unknown>;
    expect(record).toMatchObject({ runtime: 'local', reason: 'test' });
    expect(out.json().runtime).toBe('local');
  });

  it('warns when an earlier up here used another runtime, naming how to stop it', async () => {
    const { runtime } = recordingRuntime('local');
    const out = capture();
    await runUp({ cwd: '/tmp', timeout: 1_000, json: true }, { choice: choiceOf(runtime), output: out.output });
    writeFileSync(join(stateDir, 'runtime.json'), JSON.stringify({ runtime: 'kind' }));
    const again = capture();
    await runUp({ cwd: '/tmp', timeout: 1_000, json: true }, { choice: choiceOf(runtime), output: again.output });
    expect(again.stderr()).toContain('an earlier `ecom up` here used the kind runtime; what it started may still run (`ecom down --runtime kind` stops it)');
  });

  it('refuses --amqp-url for a runtime other than local (exit 2)', async () => {
    const { runtime, asked } = recordingRuntime('kind');
    const err = await runUp({ cwd: '/tmp', timeout: 1_000, amqpUrl: 'amqp://x', json: true }, { choice: choiceOf(runtime), output: capture().output }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(2);
    expect(asked).toEqual([]);
  });
});
