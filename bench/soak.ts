/**
 * Soak: a real `ecom up` (local runtime, built CLI, its own ECOM_HOME and port offset)
 * under a steady open-loop rate over the storefront, catalog, search and order paths
 * (all through the frontend, so every service works) for a few minutes. Each service's
 * resident memory and open descriptors (/proc/<pid>/status, /proc/<pid>/fd) after the
 * warm-up (which lasts until memory holds steady: warmUp) and at the end, and the
 * latency percentiles of every minute.
 *
 * Both samples are taken at rest (requests finished, idle connections closed).
 * Bounds: RSS at the end ≤ 1.2 × after the warm-up; descriptors within ±10; the last
 * minute's p99 ≤ 2 × the first minute's; no failed request. `npm run bench soak --
 * --minutes N` (default 3); BENCH_SOAK_RATE requests per second (default 20).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceName } from '../src/core/system.js';
import { statePaths } from '../src/runtime/local/paths.js';
import { readState } from '../src/runtime/local/state.js';
import { freeOffset, processUsage, runEcom, type ProcessUsage } from './lib/local-system.js';
import { record } from './lib/record.js';

const DEFAULT_MINUTES = 3;
const RATE = Number(process.env.BENCH_SOAK_RATE ?? 20);
/** The warm-up runs at least MIN, then in STEPs until every process's RSS moved less than STEADY over one step, at most MAX. */
const WARM_UP = { MIN_MS: 60_000, STEP_MS: 30_000, MAX_MS: 240_000, STEADY: 0.03 };
const MAX_IN_FLIGHT = 200;
const SETTLE_MS = 7_000;
const REQUEST_TIMEOUT_MS = 10_000;
const RSS_GROWTH_BOUND = 1.2;
const FD_BOUND = 10;
const P99_DRIFT_BOUND = 2;
const WORDS = ['lamp', 'chair', 'steel', 'wood', 'blue', 'desk', 'cotton', 'mug', 'oak', 'table'];

type PathKind = 'storefront' | 'catalog' | 'search' | 'order' | 'feed';

interface Sample {
  kind: PathKind;
  at: number;
  ms: number;
  ok: boolean;
}

export async function benchSoak(minutes = DEFAULT_MINUTES): Promise<boolean> {
  const home = mkdtempSync(join(tmpdir(), 'ecom-bench-soak-'));
  const env: NodeJS.ProcessEnv = { ...process.env, ECOM_HOME: home, CI: 'true' };
  delete env.AMQP_URL;
  const offset = await freeOffset(27_000, 30_000);
  try {
    const up = await runEcom(['up', '--port-offset', String(offset), '--timeout', '4m'], env);
    if (up.code !== 0) throw new Error(`ecom up failed (exit ${up.code}): ${up.stderr.trim().split('\n').slice(-3).join(' ')}`);
    const state = readState(statePaths(home).stateFile);
    if (!state) throw new Error('ecom up left no readable state file');
    const base = state.services.frontend.url.replace(/\/$/, '');
    const pids = Object.fromEntries(
      Object.entries(state.services).map(([name, s]) => [name, s.process?.pid]).concat([['supervisor', state.supervisor.pid]]),
    ) as Record<ServiceName | 'supervisor', number | undefined>;
    const productIds = await fetchProductIds(base);

    const load = new SteadyLoad(base, productIds);
    process.stdout.write(`soak: ecom up on offset ${offset}; ${RATE} req/s of warm-up until memory holds steady, then ${minutes} min\n`);
    const warm = await warmUp(load, pids);
    process.stdout.write(
      `  warm-up: ${Math.round(warm.ms / 1000)} s, ${warm.steady ? `every RSS within ${WARM_UP.STEADY * 100} % over its last ${WARM_UP.STEP_MS / 1000} s` : 'RSS still moving at the limit'}\n`,
    );
    await settle(load);
    const start = usageOf(pids);
    const trend: Record<string, number[]> = {};
    const sampleTrend = () => {
      for (const [name, u] of Object.entries(usageOf(pids))) (trend[name] ??= []).push(Math.round(u?.rssMB ?? NaN));
    };
    sampleTrend();
    const sampler = setInterval(sampleTrend, 60_000);
    const measuredFrom = performance.now();
    await load.run(minutes * 60_000);
    clearInterval(sampler);
    await settle(load);
    const end = usageOf(pids);
    sampleTrend();
    process.stdout.write(`  RSS MB each minute: ${Object.entries(trend).map(([n, xs]) => `${n} ${xs.join('→')}`).join('; ')}\n`);
    const samples = load.samples.filter((s) => s.at >= measuredFrom);
    const restarts = (readState(statePaths(home).stateFile)?.services ?? state.services);

    return report(samples, measuredFrom, minutes, start, end, restarts, trend);
  } finally {
    await runEcom(['down', '--purge'], env, 120_000);
    rmSync(home, { recursive: true, force: true });
  }
}

/**
 * Warms up at the soak's rate until memory holds steady. V8 sizes a process's heap to
 * its load once (the frontend went 85 → 125 MB within one minute on a slower machine,
 * then stayed at 125–126 MB): a step at the start, not growth over time, which is what
 * the soak is there to catch. So the start sample waits for the step, however long it
 * takes on this machine.
 */
async function warmUp(load: SteadyLoad, pids: Record<string, number | undefined>): Promise<{ ms: number; steady: boolean }> {
  const started = performance.now();
  const rss = () => Object.values(usageOf(pids)).map((u) => u?.rssMB ?? 0);
  await load.run(WARM_UP.MIN_MS - WARM_UP.STEP_MS);
  let before = rss();
  for (;;) {
    await load.run(WARM_UP.STEP_MS);
    const now = rss();
    const steady = now.every((mb, i) => Math.abs(mb - before[i]!) <= WARM_UP.STEADY * before[i]!);
    const ms = performance.now() - started;
    if (steady || ms >= WARM_UP.MAX_MS) return { ms, steady };
    before = now;
  }
}

/**
 * Lets the requests in flight finish and idle keep-alive connections close (servers and
 * undici drop them after about 5 s), so both samples see the system at rest: what is
 * left open then is held, not in use.
 */
async function settle(load: SteadyLoad): Promise<void> {
  await load.drain();
  await new Promise((r) => setTimeout(r, SETTLE_MS));
}

function usageOf(pids: Record<string, number | undefined>): Record<string, ProcessUsage | undefined> {
  return Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, pid ? processUsage(pid) : undefined]));
}

async function fetchProductIds(base: string): Promise<number[]> {
  const res = await fetch(`${base}/api/catalog?limit=50`);
  if (!res.ok) throw new Error(`GET /api/catalog answered ${res.status}`);
  const ids = ((await res.json()) as { items: { id: number }[] }).items.map((p) => p.id);
  if (ids.length === 0) throw new Error('the catalogue is empty');
  return ids;
}

/** Open-loop requests at RATE per second, cycling through the paths; every answer timed. */
class SteadyLoad {
  readonly samples: Sample[] = [];
  private sent = 0;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly base: string,
    private readonly productIds: number[],
  ) {}

  async run(ms: number): Promise<void> {
    const started = performance.now();
    const count = Math.round((ms / 1000) * RATE);
    for (let i = 0; i < count; i++) {
      const wait = started + (i * 1000) / RATE - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (this.inFlight.size >= MAX_IN_FLIGHT) {
        // The system fell behind: count it as a failure instead of piling up more.
        this.samples.push({ kind: 'storefront', at: performance.now(), ms: NaN, ok: false });
        continue;
      }
      const work = this.one(this.sent++);
      this.inFlight.add(work);
      void work.finally(() => this.inFlight.delete(work));
    }
  }

  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private async one(n: number): Promise<void> {
    const { kind, path, init } = this.request(n);
    const at = performance.now();
    let ok = false;
    try {
      const res = await fetch(`${this.base}${path}`, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      await res.arrayBuffer();
      ok = res.status < 400;
    } catch {
      ok = false;
    }
    this.samples.push({ kind, at, ms: performance.now() - at, ok });
  }

  /** The mix: per 10 requests 2 storefront pages, 3 catalog pages, 2 searches, 2 orders, 1 recent-orders list. */
  private request(n: number): { kind: PathKind; path: string; init?: RequestInit } {
    const product = this.productIds[n % this.productIds.length]!;
    switch (n % 10) {
      case 0:
      case 5:
        return { kind: 'storefront', path: '/' };
      case 1:
      case 4:
        return { kind: 'catalog', path: `/api/catalog?limit=20&offset=${(n * 7) % 40}` };
      case 7:
        return { kind: 'catalog', path: `/api/catalog/${product}` };
      case 2:
      case 8:
        return { kind: 'search', path: `/api/search?q=${WORDS[n % WORDS.length]}` };
      case 3:
      case 6:
        return {
          kind: 'order',
          path: '/api/orders',
          init: {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'idempotency-key': `soak-${process.pid}-${n}` },
            body: JSON.stringify({ customer: { email: 'soak@example.com', name: 'Soak' }, items: [{ productId: product, quantity: 1 }] }),
          },
        };
      default:
        return { kind: 'feed', path: '/api/orders/recent' };
    }
  }
}

function percentile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((q / 100) * sorted.length) - 1)]!;
}

function report(
  samples: Sample[],
  from: number,
  minutes: number,
  start: Record<string, ProcessUsage | undefined>,
  end: Record<string, ProcessUsage | undefined>,
  services: Record<string, { restarts: number }>,
  trend: Record<string, number[]>,
): boolean {
  const perMinute = Array.from({ length: Math.ceil(minutes) }, (_, m) =>
    samples.filter((s) => s.ok && s.at >= from + m * 60_000 && s.at < from + (m + 1) * 60_000).map((s) => s.ms),
  );
  const failed = samples.filter((s) => !s.ok).length;
  const lines = perMinute.map(
    (ms, m) => `minute ${m + 1}: ${ms.length} requests, p50 ${percentile(ms, 50).toFixed(1)} / p90 ${percentile(ms, 90).toFixed(1)} / p99 ${percentile(ms, 99).toFixed(1)} ms`,
  );
  const kinds = [...new Set(samples.map((s) => s.kind))].map((k) => {
    const ms = samples.filter((s) => s.kind === k && s.ok).map((s) => s.ms);
    return `${k} p50 ${percentile(ms, 50).toFixed(1)} / p99 ${percentile(ms, 99).toFixed(1)} ms`;
  });
  process.stdout.write(`${lines.map((l) => `  ${l}`).join('\n')}\n  by path: ${kinds.join('; ')}\n  ${samples.length} requests, ${failed} failed\n`);

  let ok = record({
    name: 'soak requests failed',
    figure: failed,
    unit: 'requests',
    reference: samples.length,
    referenceName: 'requests sent',
    goal: { of: 'figure', atMost: 0 },
    note: `${RATE} req/s open-loop over the storefront page, catalog pages and products, search, orders and the recent-orders list, through the frontend. ${lines.join('; ')}. By path: ${kinds.join('; ')}.`,
  });
  const first = perMinute[0]!;
  const last = perMinute.at(-1)!;
  ok =
    record({
      name: 'soak p99, last minute',
      figure: percentile(last, 99),
      unit: 'ms',
      reference: percentile(first, 99),
      referenceName: 'p99 of the first minute',
      goal: { atMost: P99_DRIFT_BOUND },
    }) && ok;
  for (const name of Object.keys(start)) {
    const s = start[name];
    const e = end[name];
    const restarts = services[name]?.restarts ?? 0;
    if (!s || !e) {
      ok = record({ name: `${name} alive to the end`, figure: 0, unit: 'processes', reference: 1, referenceName: 'process after the warm-up', goal: { atLeast: 1 } }) && ok;
      continue;
    }
    const restarted = restarts > 0 ? ` (${restarts} restarts by the supervisor)` : '';
    ok =
      record({
        name: `${name} RSS`,
        figure: e.rssMB,
        unit: 'MB',
        reference: s.rssMB,
        referenceName: 'after the warm-up',
        goal: { atMost: RSS_GROWTH_BOUND },
        note: `each minute ${trend[name]?.join(' → ')} MB${restarted}.`,
      }) && ok;
    ok =
      record({
        name: `${name} open descriptors`,
        figure: e.fds,
        unit: 'fds',
        reference: s.fds,
        referenceName: 'after the warm-up',
        goal: { of: 'change', atLeast: -FD_BOUND, atMost: FD_BOUND },
      }) && ok;
  }
  return ok;
}
