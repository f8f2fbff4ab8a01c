/**
 * GET /catalog of the real service against a minimal Express 5 handler and a bare
 * node:http server, both sending the same JSON bytes. Goal: ours >= 1.0 of Express (the
 * service's logging, metrics and request ids cost nothing measurable beyond Express
 * itself); the ratio to node:http shows what Express costs.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareDatabase } from '../src/services/common/db/migrate.js';
import { createPool } from '../src/services/common/db/pool.js';
import { generateProducts, insertProducts } from '../src/services/common/db/seed.js';
import { benchDatabase, load, startServerProcess, stopProcess } from './lib/harness.js';
import { record } from './lib/record.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = 5;
const PATH = '/catalog?limit=20&offset=40';
const GOAL = 1.0;

export async function benchCatalog(): Promise<boolean> {
  const db = await benchDatabase();
  const pool = createPool(db.url, 2);
  const bodyFile = join(tmpdir(), `ecom-bench-catalog-${process.pid}.json`);
  const children: Awaited<ReturnType<typeof startServerProcess>>['child'][] = [];
  try {
    await prepareDatabase(pool, { seed: false });
    await insertProducts(pool, generateProducts(100_000));
    const catalog = await startServerProcess('bench/servers/catalog.ts', { DATABASE_URL: db.url });
    children.push(catalog.child);
    const url = `http://127.0.0.1:${catalog.port}${PATH}`;
    const body = Buffer.from(await (await fetch(url)).arrayBuffer());
    writeFileSync(bodyFile, body);
    const express = await startServerProcess('bench/servers/minimal-express.ts', { BODY_FILE: bodyFile });
    children.push(express.child);
    const bare = await startServerProcess('bench/servers/bare-http.ts', { BODY_FILE: bodyFile });
    children.push(bare.child);
    const urls = [url, `http://127.0.0.1:${express.port}/catalog`, `http://127.0.0.1:${bare.port}/catalog`];

    // Warm all three, then alternate short rounds so drift on a shared machine hits all
    // alike; each figure is the round with the median ratio, which one noisy round cannot move.
    for (const u of urls) await load({ url: u, seconds: 1 });
    const rounds: number[][] = [];
    let failures = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const rps: number[] = [];
      for (const u of urls) {
        const r = await load({ url: u, seconds: SECONDS / ROUNDS });
        failures += r.errors + r.non2xx;
        rps.push(r.requestsPerSecond);
      }
      rounds.push(rps);
    }
    if (failures > 0) throw new Error(`the servers answered ${failures} requests with errors`);
    const vsExpress = rounds.map(([o, e]) => o! / e!);
    const vsBare = rounds.map(([o, , b]) => o! / b!);
    const fmt = (xs: number[]) => xs.map((r) => r.toFixed(2)).join(' ');
    const note = `${body.length} bytes per response, 100,000 products, ${ROUNDS} alternating rounds of ${SECONDS / ROUNDS} s, 50 connections; round ratios vs Express ${fmt(vsExpress)}, vs node:http ${fmt(vsBare)}.`;
    process.stdout.write(`catalog: ${note}\n`);
    const e = rounds[medianIndex(vsExpress)]!;
    const b = rounds[medianIndex(vsBare)]!;
    const x = rounds[medianIndex(rounds.map(([, ex, ba]) => ex! / ba!))]!;
    const ok = record({
      name: 'GET /catalog',
      figure: e[0]!,
      unit: 'req/s',
      reference: e[1]!,
      referenceName: 'minimal Express 5 handler, same bytes',
      goal: { atLeast: GOAL },
      note,
    });
    record({ name: 'GET /catalog', figure: b[0]!, unit: 'req/s', reference: b[2]!, referenceName: 'bare node:http server, same bytes' });
    record({ name: 'minimal Express 5 handler', figure: x[1]!, unit: 'req/s', reference: x[2]!, referenceName: 'bare node:http server, same bytes' });
    return ok;
  } finally {
    for (const child of children) await stopProcess(child);
    rmSync(bodyFile, { force: true });
    await pool.end();
    await db.close();
  }
}

function medianIndex(values: number[]): number {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  return order[Math.floor(order.length / 2)]!.i;
}
