/**
 * GET /catalog against a minimal Express 5 handler sending the same JSON bytes.
 * Goal: ours >= 0.9 of the reference (the service's own middleware costs little).
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareDatabase } from '../src/services/common/db/migrate.js';
import { createPool } from '../src/services/common/db/pool.js';
import { generateProducts, insertProducts } from '../src/services/common/db/seed.js';
import { benchDatabase, load, printRatio, startServerProcess, stopProcess } from './lib/harness.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
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
    const refUrl = `http://127.0.0.1:${reference.port}/catalog`;

    // Warm both, then alternate so drift on a shared machine hits both alike.
    await load({ url, seconds: 1 });
    await load({ url: refUrl, seconds: 1 });
    const ours = [];
    const ref = [];
    for (let round = 0; round < 2; round++) {
      ours.push(await load({ url, seconds: SECONDS / 2 }));
      ref.push(await load({ url: refUrl, seconds: SECONDS / 2 }));
    }
    const failures = ours.reduce((n, r) => n + r.errors + r.non2xx, 0);
    if (failures > 0) throw new Error(`catalog answered ${failures} requests with errors`);
    const avg = (rs: { requestsPerSecond: number }[]) => rs.reduce((s, r) => s + r.requestsPerSecond, 0) / rs.length;
    process.stdout.write(`catalog: ${body.length} bytes per response, 100,000 products\n`);
    const ok = printRatio('GET /catalog vs minimal Express', avg(ours), avg(ref), 'req/s', 0.9);
    await stopProcess(catalog.child);
    await stopProcess(reference.child);
    return ok;
  } finally {
    await pool.end();
    await db.close();
  }
}
