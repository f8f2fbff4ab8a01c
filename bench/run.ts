/**
 * `npm run bench [name…]`: runs the benchmarks (all, or the named ones) one after
 * another and exits 1 if a figure is below its goal. Not part of `npm test`: figures
 * depend on the machine, ratios much less so.
 */
const BENCHES: Record<string, () => Promise<boolean>> = {
  catalog: async () => (await import('./catalog.js')).benchCatalog(),
  order: async () => (await import('./order.js')).benchOrder(),
  relay: async () => (await import('./relay.js')).benchRelay(),
  cli: async () => (await import('./cli-startup.js')).benchCliStartup(),
  up: async () => (await import('./up.js')).benchUp(),
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !(w in BENCHES));
if (unknown.length) {
  process.stderr.write(`bench: unknown benchmark ${unknown.join(', ')}; choose from ${Object.keys(BENCHES).join(', ')}\n`);
  process.exit(2);
}
let allOk = true;
for (const name of wanted.length ? wanted : Object.keys(BENCHES)) {
  process.stdout.write(`\n== ${name}\n`);
  try {
    allOk = (await BENCHES[name]!()) && allOk;
  } catch (err) {
    process.stderr.write(`bench ${name} failed: ${(err as Error).message}\n`);
    allOk = false;
  }
}
process.exit(allOk ? 0 : 1);
