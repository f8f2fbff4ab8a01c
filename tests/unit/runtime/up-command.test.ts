/** `ecom up` (src/cli/commands/up.ts) against a recording runtime: which ports it asks for. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runUp } from '../../../src/cli/commands/up.js';
import { createOutput } from '../../../src/cli/output.js';
import type { Endpoints, ServiceName } from '../../../src/core/system.js';
import type { Runtime, UpOptions } from '../../../src/runtime/types.js';

const at = (offset: number): Endpoints => ({
  services: {
    catalog: `http://127.0.0.1:${5001 + offset}`,
    search: `http://127.0.0.1:${5002 + offset}`,
    order: `http://127.0.0.1:${5003 + offset}`,
    frontend: `http://127.0.0.1:${5004 + offset}`,
  },
});
const portsAt = (offset: number): Record<ServiceName, number> => ({ catalog: 5001 + offset, search: 5002 + offset, order: 5003 + offset, frontend: 5004 + offset });

/** A runtime already up on `runningOffset` (or not up), recording the ports `up` is asked for. */
function recordingRuntime(runningOffset: number | undefined) {
  const asked: Array<Record<ServiceName, number>> = [];
  const runtime = {
    name: 'local',
    endpoints: async () => (runningOffset === undefined ? undefined : at(runningOffset)),
    up: async (options: UpOptions) => {
      asked.push(options.ports);
      return { alreadyUp: runningOffset !== undefined, endpoints: at(runningOffset ?? 0), warnings: [] };
    },
  } as Partial<Runtime> as Runtime;
  return { runtime, asked };
}

function jsonOutput() {
  const chunks: string[] = [];
  const stdout = new Writable({ write: (c, _e, done) => (chunks.push(String(c)), done()) });
  const stderr = new Writable({ write: (_c, _e, done) => done() });
  return { output: createOutput({ json: true, stdout, stderr, env: {} }), json: () => JSON.parse(chunks.join('')) as { alreadyUp: boolean; endpoints: Endpoints } };
}

const run = (runtime: Runtime, portOffset: number | undefined) => {
  const out = jsonOutput();
  const code = runUp({ cwd: '/tmp', timeout: 1_000, portOffset, json: true }, { choice: { runtime, reason: 'test', stateDir: '/tmp/.ecom' }, output: out.output });
  return { code, json: out.json };
};

describe('ecom up and the port offset', () => {
  it('without --port-offset keeps the ports of a system already up on another offset, and reports it already up', async () => {
    const { runtime, asked } = recordingRuntime(700);
    const { code, json } = run(runtime, undefined);
    expect(await code).toBe(0);
    expect(asked).toEqual([portsAt(700)]);
    expect(json()).toMatchObject({ alreadyUp: true, endpoints: at(700) });
  });

  it('without --port-offset and nothing up, asks for the default ports', async () => {
    const { runtime, asked } = recordingRuntime(undefined);
    expect(await run(runtime, undefined).code).toBe(0);
    expect(asked).toEqual([portsAt(0)]);
  });

  it('with an explicit --port-offset asks for exactly that, even when another one runs (the runtime refuses it)', async () => {
    const { runtime, asked } = recordingRuntime(700);
    await run(runtime, 0).code;
    await run(runtime, 300).code;
    expect(asked).toEqual([portsAt(0), portsAt(300)]);
  });
});
