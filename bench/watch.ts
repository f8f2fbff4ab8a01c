/**
 * The loop's figure: time from saving a service's source to that service answering
 * with the new code, under `ecom dev` on the local runtime (a copy of the project, so
 * the repository is never edited). Each round saves src/services/order/app.ts with a
 * new response header and polls `GET /` until it carries it. Goal: under 2 s.
 * Reference, in the same rounds: the order service's own cold start (its built
 * main.js spawned with the running one's environment on another port, until /health
 * answers 200) — what no restart can go below; the ratio shows what watching,
 * rebuilding and restarting add. Run: `npx tsx bench/watch.ts` (needs `npm run build`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { record } from './lib/record.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const GOAL_MS = 2_000;
const POLL_MS = 10;
const WAIT_MS = 120_000;
const PROJECT_FILES = ['bin', 'dist', 'src', 'manifests', 'dashboards', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsup.config.ts'];
const ANCHOR = "app.get('/', (_req, res) => {";

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch {
      // not answering yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

async function freeOffset(): Promise<number> {
  for (let offset = 27_000; offset < 30_000; offset += 10) {
    const free = await Promise.all([1, 2, 3, 4, 5].map((n) => portFree(5000 + n + offset)));
    if (free.every(Boolean)) return offset;
  }
  throw new Error('no free port offset in 27000-30000');
}

/** The running order service's environment, from /proc (the supervisor gave it the database and broker URLs). */
function environOf(pid: number): NodeJS.ProcessEnv {
  const pairs = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
  return Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
}

/** Spawn to /health 200 of the built order service on a spare port, then stop it. */
async function coldStart(script: string, env: NodeJS.ProcessEnv, port: number): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, [script], { env: { ...env, PORT: String(port) }, stdio: 'ignore' });
  try {
    await until(async () => ((await fetch(`http://127.0.0.1:${port}/health`)).status === 200 ? true : undefined), 'the reference order service');
    return performance.now() - started;
  } finally {
    await stop(child);
  }
}

/** `node -e 0`, to tell a loaded machine in the note. */
function nodeStart(): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    child.once('error', reject);
    child.once('close', () => resolve(performance.now() - started));
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

export async function benchWatch(): Promise<boolean> {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('run `npm run build` first');
  const dir = mkdtempSync(join(tmpdir(), 'ecom-bench-watch-'));
  const project = join(dir, 'project');
  const home = join(dir, 'home');
  mkdirSync(project);
  for (const entry of PROJECT_FILES) cpSync(join(ROOT, entry), join(project, entry), { recursive: true, preserveTimestamps: true });
  symlinkSync(join(ROOT, 'node_modules'), join(project, 'node_modules'));
  const env: NodeJS.ProcessEnv = { ...process.env, ECOM_HOME: home, CI: 'true' };
  delete env.AMQP_URL;
  const bin = join(project, 'bin', 'ecom.js');
  const offset = await freeOffset();
  const orderUrl = `http://127.0.0.1:${5003 + offset}/`;
  const appFile = join(project, 'src', 'services', 'order', 'app.ts');
  const source = readFileSync(appFile, 'utf8');
  if (!source.includes(ANCHOR)) throw new Error(`bench/watch.ts: the edit point moved (${ANCHOR} not in order/app.ts)`);

  let output = '';
  const dev = spawn(process.execPath, [bin, 'dev', '--port-offset', String(offset), '--timeout', '4m'], { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] });
  dev.stdout.on('data', (c: Buffer) => (output += c.toString()));
  dev.stderr.on('data', (c: Buffer) => (output += c.toString()));
  try {
    await until(async () => (output.includes('watching src/services') ? true : undefined), `ecom dev to watch; it said:\n${output}`);
    const state = JSON.parse(readFileSync(join(home, 'state.json'), 'utf8')) as { services: { order: { process: { pid: number } } } };
    const orderEnv = environOf(state.services.order.process.pid);
    const spare = offset + 5090;
    const saves: number[] = [];
    const colds: number[] = [];
    const nodes: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      nodes.push(await nodeStart());
      colds.push(await coldStart(join(project, 'dist', 'services', 'order', 'main.js'), orderEnv, spare));
      const mark = `round-${round}`;
      const saved = performance.now();
      writeFileSync(appFile, source.replace(ANCHOR, `${ANCHOR}\n        res.setHeader('x-bench-edit', '${mark}');`));
      await until(async () => ((await fetch(orderUrl)).headers.get('x-bench-edit') === mark ? true : undefined), `order to answer with ${mark}; ecom dev said:\n${output}`);
      saves.push(performance.now() - saved);
      // Let the restarted service settle (its broker connection, first scrape) before the next round.
      await sleep(1_000);
    }
    const rounds = (xs: number[]) => xs.map((x) => Math.round(x)).join(', ');
    process.stdout.write(`rounds: save → new code ${rounds(saves)} ms; order cold start ${rounds(colds)} ms; node -e 0 ${rounds(nodes)} ms\n`);
    const lines = output.split('\n').filter((l) => l.includes('order: rebuilt'));
    return record({
      name: 'save → order answering with the new code (ecom dev)',
      figure: median(saves),
      unit: 'ms',
      reference: median(colds),
      referenceName: "order service's own cold start (spawn → /health 200)",
      goal: { of: 'figure', atMost: GOAL_MS },
      note: `medians of ${ROUNDS} rounds; node -e 0 took ${Math.round(median(nodes))} ms here; ecom dev's last line: ${lines.at(-1)?.replace(/^\S+ /, '') ?? '-'}.`,
    });
  } finally {
    dev.kill('SIGINT');
    await new Promise((resolve) => dev.once('exit', resolve));
    const down = spawn(process.execPath, [bin, 'down', '--purge'], { cwd: project, env, stdio: 'ignore' });
    await new Promise((resolve) => down.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const ok = await benchWatch();
  process.exit(ok ? 0 : 1);
}
