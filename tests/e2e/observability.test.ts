/**
 * Dashboards and rules cannot rot silently: with the system up under the local runtime
 * and its real Prometheus scraping, after smoke traffic and some orders, every query of
 * every panel and every rule evaluates without error and returns data (an alert's
 * signals without their thresholds), and Prometheus runs exactly the generated rules.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../../src/core/poll.js';
import { panelQueries, ruleQueries, type NamedQuery } from '../../src/dashboards/queries.js';
import { ALERT_GROUPS, RECORDING_GROUPS } from '../../src/dashboards/rules.js';
import { ecom, ensureBuilt, freeOffset, newHome, parseJson } from './helpers.js';

const UP_TIMEOUT_MS = 150_000;
/** Recording rules run every 5 s locally; rate() needs two scrapes in its window. */
const DATA_TIMEOUT_MS = 90_000;
const POLL_INTERVAL_MS = 2_000;
/** Grafana's $__rate_interval at a 5 s scrape interval is 20 s; a minute leaves margin. */
const RATE_WINDOW = '1m';
const ORDERS = 5;
const SEARCHES = ['lap', 'pro', 'zeppelin'];

interface UpJson {
  endpoints: { services: Record<string, string>; prometheus?: string };
}

interface QueryAnswer {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: unknown[] };
}

interface RulesAnswer {
  data: { groups: Array<{ name: string; rules: Array<{ name: string; type: string; health: string; lastError?: string }> }> };
}

describe('dashboards and rules against the real Prometheus of the local runtime', () => {
  let home: string;
  let prometheus: string;
  let frontend: string;

  beforeAll(async () => {
    ensureBuilt();
    home = newHome();
    const offset = await freeOffset();
    const run = await ecom(home, ['up', '--port-offset', String(offset), '--timeout', '120s', '--json'], UP_TIMEOUT_MS);
    if (run.code !== 0) throw new Error(`ecom up failed (exit ${run.code}):\n${run.stderr}`);
    const up = parseJson<UpJson>(run);
    if (!up.endpoints.prometheus) throw new Error('Prometheus is not running: the local runtime needs it installed (apt-get install -y prometheus)');
    prometheus = up.endpoints.prometheus;
    frontend = up.endpoints.services.frontend!;
  }, UP_TIMEOUT_MS + 30_000);

  afterAll(async () => {
    if (!home) return;
    await ecom(home, ['down', '--purge'], 90_000);
    rmSync(home, { recursive: true, force: true });
  }, 120_000);

  it('Prometheus runs exactly the generated rule groups, every rule evaluated without error', async () => {
    const expected = [...RECORDING_GROUPS.map((g) => [g.name, g.rules.map((r) => r.record)]), ...ALERT_GROUPS.map((g) => [g.name, g.rules.map((r) => r.alert)])];
    const groups = await pollUntil(
      async ({ waiting }) => {
        const answer = (await (await fetch(`${prometheus}/api/v1/rules`)).json()) as RulesAnswer;
        const rules = answer.data.groups.flatMap((g) => g.rules);
        const broken = rules.filter((r) => r.health === 'err');
        if (broken.length > 0) throw new Error(`rules failing in Prometheus: ${broken.map((r) => `${r.name}: ${r.lastError}`).join('; ')}`);
        const unevaluated = rules.filter((r) => r.health !== 'ok');
        if (rules.length > 0 && unevaluated.length === 0) return answer.data.groups;
        waiting(`not evaluated yet: ${unevaluated.map((r) => r.name).join(', ') || 'no rules loaded'}`);
        return undefined;
      },
      { what: 'Prometheus to evaluate its rules', timeoutMs: 30_000, intervalMs: 1_000 },
    );
    // Prometheus lists groups by file, then by position in it.
    const byName = (a: unknown[], b: unknown[]) => String(a[0]).localeCompare(String(b[0]));
    expect(groups.map((g) => [g.name, g.rules.map((r) => r.name)]).sort(byName)).toEqual(expected.sort(byName));
  }, 40_000);

  it('every panel and rule query evaluates and returns data after smoke traffic and some orders', async () => {
    const smoke = await ecom(home, ['smoke', '--json'], 120_000);
    expect(smoke.code, `${smoke.stdout}\n${smoke.stderr}`).toBe(0);
    await placeOrdersAndSearch(frontend);

    const queries = [...panelQueries(RATE_WINDOW), ...ruleQueries()];
    expect(queries.length).toBeGreaterThan(50);
    let answered = 0;
    await pollUntil(
      async ({ waiting }) => {
        const outcomes = await Promise.all(queries.map(async (q) => ({ q, answer: await query(prometheus, q.expr) })));
        const errors = outcomes.filter((o) => o.answer.status !== 'success');
        // A query Prometheus refuses never gets better by waiting.
        if (errors.length > 0) throw new Error(`queries Prometheus refused:\n${errors.map((o) => `${o.q.where}: ${o.answer.error}\n  ${o.q.expr}`).join('\n')}`);
        const empty = outcomes.filter((o) => o.q.mustReturnData && (o.answer.data?.result.length ?? 0) === 0).map((o) => o.q);
        answered = outcomes.length - empty.length;
        if (empty.length === 0) return true;
        waiting(describeEmpty(empty));
        return undefined;
      },
      { what: 'every dashboard and rule query to return data', timeoutMs: DATA_TIMEOUT_MS, intervalMs: POLL_INTERVAL_MS },
    );
    expect(answered).toBe(queries.length);
  }, 240_000);
});

async function query(prometheus: string, expr: string): Promise<QueryAnswer> {
  const res = await fetch(`${prometheus}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: expr }),
  });
  return (await res.json()) as QueryAnswer;
}

function describeEmpty(empty: NamedQuery[]): string {
  return `${empty.length} queries return no data:\n${empty.map((q) => `${q.where}\n  ${q.expr}`).join('\n')}`;
}

/** Real orders (created, published, consumed) and searches with hits and misses, through the frontend. */
async function placeOrdersAndSearch(frontend: string): Promise<void> {
  const catalog = (await (await fetch(`${frontend}/api/catalog`)).json()) as { items: Array<{ id: number }> };
  const productId = catalog.items[0]!.id;
  for (let i = 0; i < ORDERS; i++) {
    const res = await fetch(`${frontend}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customer: { email: `observability+${i}@example.com`, name: 'Observability' }, items: [{ productId, quantity: 1 + i }] }),
    });
    expect(res.status, await res.text()).toBeLessThan(300);
  }
  for (const q of SEARCHES) expect((await fetch(`${frontend}/api/search?q=${q}`)).status).toBe(200);
}
