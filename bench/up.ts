/**
 * `ecom up` on the local runtime. Cold (after `down --purge`) against the boot of its
 * slowest dependency measured alone in the same run — an own RabbitMQ node when
 * rabbitmq-server is installed, else embedded PostgreSQL init+start — goal ratio
 * <= 1.2; warm (already up) in ms, goal < 1000. Run: `npx tsx bench/up.ts` (needs
 * `npm run build`).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OwnRabbitNode } from '../src/runtime/local/broker.js';
import { freePort, startEmbeddedPostgres } from '../src/runtime/local/embedded-postgres.js';
import { findRabbitmqServer } from '../src/runtime/local/rabbitmq.js';
import { generateSecret } from '../src/runtime/local/secrets.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'ecom.js');
const WARM_RUNS = 5;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const COLD_GOAL = 1.2;
const WARM_GOAL_MS = 1_000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function run(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 300_000): Promise<{ code: number | null; ms: number; stderr: string }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, ms: performance.now() - started, stderr });
    });
  });
}

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

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

async function freeOffset(): Promise<number> {
  for (let offset = 24_000; offset < 27_000; offset += 10) {
    const free = await Promise.all([1, 2, 3, 4].map((n) => portFree(5000 + n + offset)));
    if (free.every(Boolean)) return offset;
  }
  throw new Error('no free port offset in 24000-27000');
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
    const reference = { label: `${label}, median of ${ROUNDS}`, ms: median(refs) };
    const cold = { ms: median(colds) };
    const warm: number[] = [];
    for (let i = 0; i < WARM_RUNS; i++) {
      const w = await run(['up', '--port-offset', offset], env);
      if (w.code !== 0) throw new Error(`warm up failed (exit ${w.code}):\n${w.stderr}`);
      warm.push(w.ms);
    }
    const warmMedian = median(warm);
    // Each round pairs a reference with the cold up right after it; the median pair ratio
    // is less sensitive to load elsewhere on the machine than a ratio of medians.
    const ratio = median(roundRatios);
    const coldOk = ratio <= COLD_GOAL;
    const warmOk = warmMedian < WARM_GOAL_MS;
    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    process.stdout.write(`${reference.label.padEnd(44)} ${s(reference.ms)}\n`);
    process.stdout.write(
      `${`cold ecom up (after down --purge), median of ${ROUNDS}`.padEnd(44)} ${s(cold.ms)}  median round ratio ${ratio.toFixed(2)} (goal <= ${COLD_GOAL}) ${coldOk ? 'OK' : 'ABOVE GOAL'}\n`,
    );
    process.stdout.write(
      `${`warm ecom up (already up), median of ${WARM_RUNS}`.padEnd(44)} ${Math.round(warmMedian)} ms  (goal < ${WARM_GOAL_MS} ms) ${warmOk ? 'OK' : 'ABOVE GOAL'}\n`,
    );
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
