/**
 * How fast `ecom --help`, `ecom --version` and `ecom status` (nothing up, a fresh
 * ECOM_HOME) run, against `node -e 0` measured in the same run (interleaved, so machine
 * noise hits all alike). Goal: `--help` and `--version` at most 1.15 of `node -e 0`,
 * with the help cache filled by the warm-up runs (as from a user's second run on); the
 * uncached `--help` is reported beside them.
 *
 *   npm run build && npx tsx bench/cli-startup.ts [runs]
 *
 * benchCliStartup() has the shape bench/run.ts expects of a benchmark.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { record } from './lib/record.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEFAULT_RUNS = 20;
const WARMUP_RUNS = 3;
const GOAL_RATIO = 1.15;

interface Case {
  label: string;
  args: string[];
  goal?: number;
  /** Exit codes that are a normal answer (status exits 3 when nothing is up). */
  codes?: number[];
  env?: NodeJS.ProcessEnv;
}

const HOME = mkdtempSync(join(tmpdir(), 'ecom-bench-cli-'));

const REFERENCE: Case = { label: 'node -e 0', args: ['-e', '0'] };
const CASES: Case[] = [
  // As a user gets them from the second time on: the first run at a width fills the help cache (src/cli/help-cache.ts).
  { label: 'ecom --help', args: ['bin/ecom.js', '--help'], goal: GOAL_RATIO },
  { label: 'ecom --version', args: ['bin/ecom.js', '--version'], goal: GOAL_RATIO },
  // The first time, or with the cache off: commander builds the program and formats the help.
  { label: 'ecom --help (no help cache)', args: ['bin/ecom.js', '--help'], env: { ECOM_HELP_CACHE: '0' } },
  { label: 'ecom status (nothing up)', args: ['bin/ecom.js', 'status'], codes: [0, 1, 3] },
];

function timeOnce(c: Case): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, c.args, { cwd: ROOT, stdio: 'ignore', env: { ...process.env, ECOM_HOME: HOME, XDG_CACHE_HOME: join(HOME, 'cache'), CI: 'true', ...c.env } });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status === null || !(c.codes ?? [0]).includes(result.status)) throw new Error(`${c.label} exited with ${result.status ?? result.signal}`);
  return ms;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Prints the figures; true when both ratios meet the goal. */
export async function benchCliStartup(runs = Number(process.env.BENCH_RUNS ?? DEFAULT_RUNS)): Promise<boolean> {
  if (!existsSync(`${ROOT}dist/cli/main.js`)) {
    process.stderr.write('dist/cli/main.js is missing: run `npm run build` first\n');
    return false;
  }
  const all = [REFERENCE, ...CASES];
  for (let i = 0; i < WARMUP_RUNS; i++) for (const c of all) timeOnce(c);
  const samples = new Map<Case, number[]>(all.map((c) => [c, []]));
  for (let i = 0; i < runs; i++) for (const c of all) samples.get(c)!.push(timeOnce(c));

  rmSync(HOME, { recursive: true, force: true });

  const reference = median(samples.get(REFERENCE)!);
  process.stdout.write(`CLI startup, median of ${runs} interleaved runs (node ${process.version})\n`);
  let ok = true;
  for (const c of CASES) {
    const met = record({
      name: c.label,
      figure: median(samples.get(c)!),
      unit: 'ms',
      reference,
      referenceName: 'node -e 0',
      goal: c.goal === undefined ? undefined : { atMost: c.goal },
      note: `median of ${runs} interleaved runs after ${WARMUP_RUNS} warm-up runs each.`,
    });
    ok = ok && met;
  }
  return ok;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const runs = process.argv[2] ? Number(process.argv[2]) : undefined;
    process.exitCode = (await benchCliStartup(runs)) ? 0 : 1;
  } catch (err) {
    // Usually another build replaced dist/ while this ran.
    process.stderr.write(`benchmark failed: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
