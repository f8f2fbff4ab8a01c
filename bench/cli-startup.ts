/**
 * How fast `ecom --help` and `ecom --version` start, against `node -e 0` measured in the
 * same run (interleaved, so machine noise hits all three alike). Goal: ratio ≤ 1.2.
 *
 *   npm run build && npx tsx bench/cli-startup.ts [runs]
 *
 * benchCliStartup() has the shape bench/run.ts expects of a benchmark.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEFAULT_RUNS = 20;
const WARMUP_RUNS = 3;
const GOAL_RATIO = 1.2;

interface Case {
  label: string;
  args: string[];
}

const REFERENCE: Case = { label: 'node -e 0', args: ['-e', '0'] };
const CASES: Case[] = [
  { label: 'ecom --help', args: ['bin/ecom.js', '--help'] },
  { label: 'ecom --version', args: ['bin/ecom.js', '--version'] },
];

function timeOnce(c: Case): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, c.args, { cwd: ROOT, stdio: 'ignore' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${c.label} exited with ${result.status ?? result.signal}`);
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

  const reference = median(samples.get(REFERENCE)!);
  const width = Math.max(...all.map((c) => c.label.length));
  process.stdout.write(`CLI startup, median of ${runs} interleaved runs (node ${process.version})\n`);
  process.stdout.write(`  ${REFERENCE.label.padEnd(width)}  ${reference.toFixed(1).padStart(7)} ms  (reference)\n`);
  let worst = 0;
  for (const c of CASES) {
    const m = median(samples.get(c)!);
    const ratio = m / reference;
    worst = Math.max(worst, ratio);
    process.stdout.write(`  ${c.label.padEnd(width)}  ${m.toFixed(1).padStart(7)} ms  ratio ${ratio.toFixed(2)} vs ${reference.toFixed(1)} ms\n`);
  }
  process.stdout.write(`worst ratio ${worst.toFixed(2)} (goal ≤ ${GOAL_RATIO})\n`);
  return worst <= GOAL_RATIO;
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
