/**
 * GET /catalog against a minimal Express 5 handler sending the same JSON bytes.
 * Goal: ours >= 0.9 of the reference (the service's own middleware costs little).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareDatabase } from '../src/services/common/db/migrate.js';
import { createPool } from '../src/services/common/db/pool.js';
import { generateProducts, insertProducts } from '../src/services/common/db/seed.js';
import { benchDatabase, load, printRatio, startServerProcess, stopProcess } from './lib/harness.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = 5;
const PATH = '/catalog?limit=20&offset=40';

export async function benchCatalog(): Promise<boolean> {
  const db = await benchDatabase();
  const pool = createPool(db.url, 2);
  try {
    await prepareDatabase(pool, { seed: false });
    await insertProducts(pool, generateProducts(100_000));
    const catalog = await startServerProcess('bench/servers/catalog.ts', { DATABASE_URL: db.url });
    const url = `http://127.0.0.1:${catalog.port}${PATH}`;
    const body = Buffer.from(await (await fetch(url)).arrayBuffer());
    const bodyFile = join(tmpdir(), `ecom-bench-catalog-${process.pid}.json`);
    writeFileSync(bodyFile, body);
    const reference = await startServerProcess('bench/servers/minimal-express.ts', { BODY_FILE: bodyFile });
    rmSync(bodyFile); // the reference server has read it
    const refUrl = `http://127.0.0.1:${reference.port}/catalog`;

    // Warm both, then alternate short rounds so drift on a shared machine hits both
    // alike; the figure is the median round, which one noisy round cannot move.
    await load({ url, seconds: 1 });
    await load({ url: refUrl, seconds: 1 });
    const ours: number[] = [];
    const ref: number[] = [];
    let failures = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const o = await load({ url, seconds: SECONDS / ROUNDS });
      const r = await load({ url: refUrl, seconds: SECONDS / ROUNDS });
      failures += o.errors + o.non2xx;
      ours.push(o.requestsPerSecond);
      ref.push(r.requestsPerSecond);
    }
    if (failures > 0) throw new Error(`catalog answered ${failures} requests with errors`);
    const ratios = ours.map((o, i) => o / ref[i]!);
    const mid = median(ratios.map((r, i) => ({ r, i }))).i;
    process.stdout.write(`catalog: ${body.length} bytes per response, 100,000 products; round ratios ${ratios.map((r) => r.toFixed(2)).join(' ')}\n`);
    const ok = printRatio('GET /catalog vs minimal Express', ours[mid]!, ref[mid]!, 'req/s', 0.9);
    await stopProcess(catalog.child);
    await stopProcess(reference.child);
    return ok;
  } finally {
    await pool.end();
    await db.close();
  }
}

function median<T extends { r: number }>(values: T[]): T {
  return [...values].sort((a, b) => a.r - b.r)[Math.floor(values.length / 2)]!;
}
