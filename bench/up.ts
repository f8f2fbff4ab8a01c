/**
 * `ecom up` on the local runtime. Cold (after `down --purge`) against the boot of its
 * slowest dependency measured alone in the same run — an own RabbitMQ node when
 * rabbitmq-server is installed, else embedded PostgreSQL init+start — goal ratio
 * <= 1.2; warm (already up) against `node -e 0`, goal < 1000 ms. Run: `npx tsx bench/up.ts` (needs
 * `npm run build`).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OwnRabbitNode } from '../src/runtime/local/broker.js';
import { freePort, startEmbeddedPostgres } from '../src/runtime/local/embedded-postgres.js';
import { findRabbitmqServer } from '../src/runtime/local/rabbitmq.js';
import { generateSecret } from '../src/runtime/local/secrets.js';
import { freeOffset, runEcom } from './lib/local-system.js';
import { record } from './lib/record.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WARM_RUNS = 5;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const COLD_GOAL = 1.2;
const WARM_GOAL_MS = 1_000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const run = (args: string[], env: NodeJS.ProcessEnv, timeoutMs?: number) => runEcom(args, env, timeoutMs);

async function rabbitBootAlone(script: string): Promise<{ label: string; ms: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'ecom-bench-rabbit-'));
  const plan = {
    dir,
    nodeName: `ecom-bench-${process.pid}@localhost`,
    amqpPort: await freePort(),
    distPort: await freePort(),
    managementPort: await freePort(),
    // Its own epmd, stopped with the node, so the benchmark leaves no daemon behind.
    epmdPort: await freePort(),
    user: 'bench',
    password: generateSecret(),
  };
  const node = new OwnRabbitNode(plan, script, join(dir, 'out.log'));
  const started = performance.now();
  node.start(process.env);
  const ok = await node.ready(Date.now() + 120_000);
  const ms = performance.now() - started;
  await node.stop(20_000);
  rmSync(dir, { recursive: true, force: true });
  if (!ok) throw new Error(`the RabbitMQ node did not boot; see ${join(dir, 'out.log')}`);
  return { label: 'own RabbitMQ node boot (alone)', ms };
}

async function postgresBootAlone(): Promise<{ label: string; ms: number }> {
  const root = mkdtempSync(join('/var/tmp', 'ecom-bench-pg-'));
  const started = performance.now();
  const pg = await startEmbeddedPostgres({ dataDir: join(root, 'data') });
  const ms = performance.now() - started;
  await pg.stop();
  rmSync(root, { recursive: true, force: true });
  return { label: 'embedded PostgreSQL init+start (alone)', ms };
}

/** `node -e 0` timed the way run() times ecom, for the warm up's reference. */
function nodeStart(): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    child.once('error', reject);
    child.once('close', () => resolve(performance.now() - started));
  });
}

export async function benchUp(): Promise<boolean> {
  if (!existsSync(join(ROOT, 'dist', 'runtime', 'local', 'supervisor.js'))) throw new Error('run `npm run build` first');
  const home = mkdtempSync(join(tmpdir(), 'ecom-bench-up-'));
  const env: NodeJS.ProcessEnv = { ...process.env, ECOM_HOME: home, CI: 'true' };
  delete env.AMQP_URL;
  const offset = String(await freeOffset());
  try {
    const script = findRabbitmqServer();
    // Alternate reference and cold up, so load from elsewhere on the machine hits both alike.
    const refs: number[] = [];
    const colds: number[] = [];
    let label = '';
    for (let round = 0; round < ROUNDS; round++) {
      const reference = script ? await rabbitBootAlone(script) : await postgresBootAlone();
      label = reference.label;
      refs.push(reference.ms);
      await run(['down', '--purge'], env);
      const cold = await run(['up', '--port-offset', offset, '--timeout', '4m'], env);
      if (cold.code !== 0) throw new Error(`cold up failed (exit ${cold.code}):\n${cold.stderr}`);
      colds.push(cold.ms);
      if (round < ROUNDS - 1) await run(['down', '--purge'], env);
    }
    const list = (xs: number[]) => xs.map((x) => (x / 1000).toFixed(2)).join(', ');
    const roundRatios = colds.map((c, i) => c / refs[i]!);
    process.stdout.write(
      `rounds: reference ${list(refs)} s; cold up ${list(colds)} s; ratios ${roundRatios.map((r) => r.toFixed(2)).join(', ')}\n`,
    );
    const warm: number[] = [];
    const nodes: number[] = [];
    for (let i = 0; i < WARM_RUNS; i++) {
      nodes.push(await nodeStart());
      const w = await run(['up', '--port-offset', offset], env);
      if (w.code !== 0) throw new Error(`warm up failed (exit ${w.code}):\n${w.stderr}`);
      warm.push(w.ms);
    }
    // Each round pairs a reference with the cold up right after it; the median pair ratio
    // is less sensitive to load elsewhere on the machine than a ratio of medians.
    const coldOk = record({
      name: 'cold ecom up (after down --purge)',
      figure: median(colds),
      unit: 'ms',
      reference: median(refs),
      referenceName: label,
      ratio: median(roundRatios),
      goal: { atMost: COLD_GOAL },
      note: `medians of ${ROUNDS} alternating rounds; the ratio is the median round's; round ratios ${roundRatios.map((r) => r.toFixed(2)).join(', ')}.`,
    });
    const warmOk = record({
      name: 'warm ecom up (already up)',
      figure: median(warm),
      unit: 'ms',
      reference: median(nodes),
      referenceName: 'node -e 0',
      goal: { of: 'figure', atMost: WARM_GOAL_MS },
      note: `medians of ${WARM_RUNS} interleaved runs.`,
    });
    return coldOk && warmOk;
  } finally {
    await run(['down', '--purge'], env);
    rmSync(home, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const ok = await benchUp();
  process.exit(ok ? 0 : 1);
}
