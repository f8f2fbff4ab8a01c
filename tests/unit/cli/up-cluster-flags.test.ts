/**
 * `ecom up`'s cluster flags (src/cli/commands/up.ts) against a recording runtime: a
 * flag the chosen runtime does not understand is exit 2 before anything is recorded,
 * `--dry-run` prints the runtime's plan and neither runs nor records anything, and a
 * runtime's notes reach the user.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runUp, type UpCommandOptions } from '../../../src/cli/commands/up.js';
import { createOutput } from '../../../src/cli/output.js';
import { ExitCode, UsageError } from '../../../src/core/errors.js';
import type { RuntimeChoice } from '../../../src/runtime/detect.js';
import type { Runtime, RuntimeName, UpPlan } from '../../../src/runtime/types.js';

const PLAN: UpPlan = {
  runtime: 'kind',
  steps: [
    { id: 'prerequisites', title: 'prerequisites', needs: [], actions: [{ kind: 'command', argv: ['kind', 'version'] }] },
    {
      id: 'cluster',
      title: 'kind cluster ecom',
      needs: ['prerequisites'],
      check: { describe: 'kind get clusters lists ecom', argv: ['kind', 'get', 'clusters'] },
      actions: [{ kind: 'command', argv: ['docker', 'exec', '--interactive', 'ecom-worker', 'sh', '-c', 'cat > /x'], input: 'line\n' }],
    },
    { id: 'objects', title: 'objects (1)', needs: ['cluster'], actions: [{ kind: 'apply', objects: ['Namespace ecommerce'] }] },
  ],
  notes: ['through the Istio gateway: somewhere'],
};

let stateDir: string;
beforeEach(() => {
  stateDir = join(mkdtempSync(join(tmpdir(), 'ecom-up-flags-')), '.ecom');
});
afterEach(() => rmSync(join(stateDir, '..'), { recursive: true, force: true }));

function runtimeOf(name: RuntimeName, withPlan = true) {
  const calls: string[] = [];
  const runtime = {
    name,
    up: async () => {
      calls.push('up');
      return { alreadyUp: false, endpoints: { services: { catalog: 'c', search: 's', order: 'o', frontend: 'f' } }, warnings: [], notes: ['a note for the user'] };
    },
    ...(withPlan ? { plan: async () => (calls.push('plan'), PLAN) } : {}),
  } as Partial<Runtime> as Runtime;
  return { runtime, calls, choice: { runtime, name, source: 'explicit', reason: 'test', stateDir } as RuntimeChoice };
}

async function up(options: Partial<UpCommandOptions>, choice: RuntimeChoice, json = false) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const sink = (into: string[]) => new Writable({ write: (c, _e, done) => (into.push(String(c)), done()) });
  const output = createOutput({ json, isTTY: false, stdout: sink(stdout), stderr: sink(stderr), env: {} });
  const code = await runUp({ cwd: '/tmp', timeout: 1_000, ...options }, { choice, output });
  return { code, stdout: stdout.join(''), stderr: stderr.join('') };
}

describe('ecom up: cluster flags', () => {
  it.each([
    [{ registry: '127.0.0.1:5999/team' }, 'kind', '--registry applies to the context runtime only, not kind', 'drop --registry, or add --runtime context'],
    [{ context: 'team-prod' }, 'local', '--context applies to the context runtime only, not local', 'drop --context, or add --runtime context'],
    [{ yes: true }, 'kind', '--yes applies to the context runtime only, not kind', 'drop --yes, or add --runtime context'],
    [{ mesh: 'none' }, 'local', '--mesh applies to the kind and context runtimes only, not local', 'drop --mesh, or add --runtime kind'],
    [{ amqpUrl: 'amqp://x' }, 'kind', '--amqp-url applies to the local runtime only, not kind', 'drop --amqp-url, or add --runtime local'],
  ] as const)('%j on %s is exit 2 and records nothing', async (flags, name, message, hint) => {
    const { choice, calls } = runtimeOf(name);
    const err = (await up(flags, choice).catch((e: unknown) => e)) as UsageError;
    expect(err).toBeInstanceOf(UsageError);
    expect([err.message, err.hint, err.exitCode]).toEqual([message, hint, ExitCode.usage]);
    expect(calls).toEqual([]);
    expect(existsSync(join(stateDir, 'runtime.json'))).toBe(false);
  });

  it('--dry-run prints the plan (commands pasteable, stdin as a here-document) and neither runs nor records anything', async () => {
    const { choice, calls } = runtimeOf('kind');
    const result = await up({ dryRun: true }, choice);
    expect(result.code).toBe(0);
    expect(calls).toEqual(['plan']);
    expect(existsSync(join(stateDir, 'runtime.json'))).toBe(false);
    expect(result.stdout).toBe(
      [
        'plan of `ecom up --runtime kind` (nothing was run); steps whose needs are met run at the same time:',
        '',
        '1. prerequisites [prerequisites]',
        '      $ kind version',
        '',
        '2. kind cluster ecom [cluster] (after prerequisites)',
        '      skipped when kind get clusters lists ecom: kind get clusters',
        "      $ docker exec --interactive ecom-worker sh -c 'cat > /x' <<'EOF'",
        '      line',
        '      EOF',
        '',
        '3. objects (1) [objects] (after cluster)',
        '      apply Namespace ecommerce',
        '',
        'notes:',
        '  - through the Istio gateway: somewhere',
        '',
      ].join('\n'),
    );
    const json = await up({ dryRun: true, json: true }, runtimeOf('kind').choice, true);
    expect(JSON.parse(json.stdout)).toEqual({ runtime: 'kind', reason: 'test', stateDir, dryRun: true, plan: PLAN });
  });

  it('--dry-run on a runtime without a plan (local, named) is exit 2', async () => {
    const err = (await up({ dryRun: true }, runtimeOf('local', false).choice).catch((e: unknown) => e)) as UsageError;
    expect([err.message, err.exitCode]).toEqual(['--dry-run shows the plan of the kind and context runtimes; the local runtime has none', ExitCode.usage]);
  });

  it("prints the runtime's notes after up, and puts them in the JSON", async () => {
    const { choice } = runtimeOf('kind');
    expect((await up({}, choice)).stderr).toMatch(/Z a note for the user\n/);
    expect(JSON.parse((await up({ json: true }, runtimeOf('kind').choice, true)).stdout)).toMatchObject({ notes: ['a note for the user'] });
  });
});
