/**
 * `npm run bench [name…] [-- --minutes N] [--report]`: runs the benchmarks (all, or
 * the named ones) one after another, writes bench/results.json, BENCHMARKS.md and
 * README's benchmark table, and exits 1 if a figure misses its goal or a benchmark
 * fails. `--report` only regenerates the two documents from bench/results.json.
 * Not part of `npm test`: figures depend on the machine, ratios much less so.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BENCHES } from './registry.js';
import { beginBench, recordedFigures } from './lib/record.js';
import { writeFileSync } from 'node:fs';
import { renderBenchmarksMd, updateReadme } from './lib/report.js';
import {
  currentLoad,
  currentMachine,
  figuresOf,
  mergeResults,
  readResults,
  writeResults,
  type BenchEntry,
  type Results,
} from './lib/results-file.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = join(ROOT, 'bench', 'results.json');

function usage(message: string): never {
  process.stderr.write(`bench: ${message}\nusage: npm run bench [${Object.keys(BENCHES).join('|')}…] [-- --minutes N] [--report]\n`);
  process.exit(2);
}

let args: ReturnType<typeof parseCommandLine>;
function parseCommandLine() {
  return parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: { minutes: { type: 'string' }, report: { type: 'boolean', default: false } },
  });
}
try {
  args = parseCommandLine();
} catch (err) {
  usage((err as Error).message);
}
const wanted = args.positionals;
const unknown = wanted.filter((w) => !(w in BENCHES));
if (unknown.length) usage(`unknown benchmark ${unknown.join(', ')}`);
const minutes = args.values.minutes === undefined ? undefined : Number(args.values.minutes);
if (minutes !== undefined && !(minutes > 0)) usage(`--minutes must be a positive number, got ${args.values.minutes}`);

function writeDocuments(results: Results): void {
  const about = Object.fromEntries(Object.entries(BENCHES).map(([name, b]) => [name, b.about]));
  writeFileSync(join(ROOT, 'BENCHMARKS.md'), renderBenchmarksMd(results, about));
  if (!updateReadme(join(ROOT, 'README.md'), results)) process.stderr.write('bench: README.md has no bench-table markers; left alone\n');
}

if (args.values.report) {
  const results = readResults(RESULTS);
  if (!results) usage(`no results in ${RESULTS}: run a benchmark first`);
  writeDocuments(results);
  process.exit(0);
}

const entries: BenchEntry[] = [];
let allOk = true;
for (const name of wanted.length ? wanted : Object.keys(BENCHES)) {
  process.stdout.write(`\n== ${name}\n`);
  beginBench(name);
  const date = new Date().toISOString();
  const load = currentLoad();
  const started = performance.now();
  let ok = false;
  let error: string | null = null;
  try {
    ok = await BENCHES[name]!.run({ minutes });
  } catch (err) {
    error = (err as Error).message.split('\n')[0]!;
    process.stderr.write(`bench ${name} failed: ${(err as Error).message}\n`);
  }
  const figures = figuresOf(name, recordedFigures());
  ok = ok && error === null && figures.every((f) => f.ok !== false);
  allOk = allOk && ok;
  entries.push({ name, ok, error, date, seconds: (performance.now() - started) / 1000, load, figures });
}

const command = `npm run bench${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`;
const results = mergeResults(
  readResults(RESULTS),
  { date: new Date().toISOString(), machine: currentMachine(), command },
  entries,
  Object.keys(BENCHES),
);
writeResults(RESULTS, results);
writeDocuments(results);
process.stdout.write(`\nresults: bench/results.json, BENCHMARKS.md${allOk ? '' : ' (a goal missed or a benchmark failed)'}\n`);
process.exit(allOk ? 0 : 1);
