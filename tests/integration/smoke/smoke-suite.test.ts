import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runSmoke } from '../../../src/cli/commands/smoke.js';
import { EcomError } from '../../../src/core/errors.js';
import { createOutput } from '../../../src/cli/output.js';
import type { Runtime } from '../../../src/runtime/types.js';
import { runSmokeSuite } from '../../../src/smoke/suite.js';
import type { SmokeReport } from '../../../src/smoke/types.js';
import { startFakeSystem, type Breakage, type FakeSystem } from './fake-system.js';

const FAST = { timeoutMs: 20_000, deadlines: { requestMs: 3_000, consumerMs: 5_000, prometheusMs: 6_000 } };

let system: FakeSystem | undefined;
afterEach(async () => {
  await system?.close();
  system = undefined;
});

async function suiteAgainst(breakage: Breakage = {}): Promise<SmokeReport> {
  system = await startFakeSystem(breakage);
  return runSmokeSuite(system.endpoints, FAST);
}

/** A port nothing listens on: taken from the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function failedOnly(report: SmokeReport) {
  return report.results.filter((r) => r.status === 'failed');
}

function sink() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe('the smoke suite against a system that works', () => {
  it('passes every check, waiting for Prometheus to scrape for the first time', async () => {
    const report = await suiteAgainst();
    expect(failedOnly(report)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.results.map((r) => r.name)).toEqual([
      'catalog /health answers 200',
      'search /health answers 200',
      'order /health answers 200',
      'frontend /health answers 200',
      'catalog returns products',
      'search "lap" finds "Laptop Pro 14"',
      'an order is created and reaches the consumer',
      'an idempotent replay returns the same order',
      'an order with a bad email is rejected with 400',
      'catalog rejects limit=0 with 400',
      'catalog /metrics parses and has the expected series',
      'search /metrics parses and has the expected series',
      'order /metrics parses and has the expected series',
      'frontend /metrics parses and has the expected series',
      'Prometheus reports every target up',
    ]);
    expect(report.passed).toBe(15);
  });

  it('skips the Prometheus check when Prometheus is not running', async () => {
    system = await startFakeSystem();
    const { prometheus: _, ...withoutPrometheus } = system.endpoints;
    const report = await runSmokeSuite(withoutPrometheus, FAST);
    const check = report.results.find((r) => r.name === 'Prometheus reports every target up');
    expect(check).toMatchObject({ status: 'skipped', message: 'Prometheus is not running' });
    expect(report).toMatchObject({ ok: true, failed: 0, skipped: 1, passed: 14 });
  });
});

describe('the smoke suite reports exactly what broke', () => {
  it('search returning nothing fails only the search check, saying what it saw', async () => {
    const report = await suiteAgainst({ searchEmpty: true });
    const failed = failedOnly(report);
    expect(failed.map((r) => r.name)).toEqual(['search "lap" finds "Laptop Pro 14"']);
    expect(failed[0]!.message).toContain('"Laptop Pro 14" not found: no results');
    expect(failed[0]!.message).toContain('HTTP 200: {"query":"lap","items":[],"count":0}');
  });

  it('garbage on /metrics fails only that service\'s metrics check, quoting the line', async () => {
    const report = await suiteAgainst({ garbageMetrics: 'order' });
    const failed = failedOnly(report);
    expect(failed.map((r) => r.name)).toEqual(['order /metrics parses and has the expected series']);
    expect(failed[0]!.message).toMatch(/^\/metrics does not parse: line 1: .*<html>this is not metrics<\/html>/);
  });

  it('a missing broker fails the consumer check and says the broker is missing', async () => {
    const report = await suiteAgainst({ noBroker: true });
    const failed = failedOnly(report);
    expect(failed.map((r) => r.name)).toEqual(['an order is created and reaches the consumer']);
    expect(failed[0]!.message).toMatch(/^order [0-9a-f-]{36} was created but did not reach the frontend's consumer within \d+ s: the broker is missing/);
    expect(failed[0]!.message).toContain('order /health reports broker: connect ECONNREFUSED 127.0.0.1:5672');
    // The health checks still pass: the service is degraded, not down.
    expect(report.results.find((r) => r.name === 'order /health answers 200')).toMatchObject({ status: 'passed', message: 'degraded: broker not answering' });
  });

  it('an order service that does not mark smoke orders as test orders fails both order checks, naming the header', async () => {
    const report = await suiteAgainst({ testFlagIgnored: true });
    const failed = failedOnly(report);
    expect(failed.map((r) => r.name)).toEqual(['an order is created and reaches the consumer', 'an idempotent replay returns the same order']);
    for (const f of failed) expect(f.message).toMatch(/^order [0-9a-f-]{36} is not marked as a test order \("test": true for X-Ecom-Test-Order: true\), so shoppers would see it/);
  });

  it('a frontend that shows test orders in the live feed fails the consumer check', async () => {
    const report = await suiteAgainst({ testOrdersInFeed: true });
    const failed = failedOnly(report);
    expect(failed.map((r) => r.name)).toEqual(['an order is created and reaches the consumer']);
    expect(failed[0]!.message).toMatch(/^test order [0-9a-f-]{36} was consumed but shows in the shoppers' live feed \(http:\/\/127\.0\.0\.1:\d+\/api\/orders\/recent\)$/);
  });

  it('an unhealthy service fails its /health check with the status and body', async () => {
    const report = await suiteAgainst({ unhealthy: 'catalog' });
    const failed = failedOnly(report);
    expect(failed.map((r) => r.name)).toEqual(['catalog /health answers 200']);
    expect(failed[0]!.message).toMatch(/^expected HTTP 200, got GET http:\/\/127\.0\.0\.1:\d+\/health → HTTP 503: \{"status":"unavailable"/);
  });

  it('a replay that creates a second order fails the idempotency check with both ids', async () => {
    const report = await suiteAgainst({ replayCreatesNew: true });
    const failed = failedOnly(report);
    expect(failed.map((r) => r.name)).toEqual(['an idempotent replay returns the same order']);
    expect(failed[0]!.message).toMatch(/^the replay answered order [0-9a-f-]{36}, the first request order [0-9a-f-]{36}: POST .* → HTTP 201: /);
  });

  it('a target Prometheus cannot scrape fails the Prometheus check naming it', async () => {
    const report = await suiteAgainst({ targetDown: true });
    const failed = failedOnly(report);
    expect(failed.map((r) => r.name)).toEqual(['Prometheus reports every target up']);
    expect(failed[0]!.message).toBe('targets down: order 127.0.0.1:order (connection refused)');
  });

  it('a service Prometheus does not scrape fails the Prometheus check naming it, though every target is up', async () => {
    const report = await suiteAgainst({ notScraped: 'search' });
    const failed = failedOnly(report);
    expect(failed.map((r) => r.name)).toEqual(['Prometheus reports every target up']);
    expect(failed[0]!.message).toMatch(/^no target up for search: catalog 127\.0\.0\.1:catalog: up; order /);
  });

  it('services that do not answer fail with the connection error, not a stack', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const report = await runSmokeSuite({ services: { catalog: url, search: url, order: url, frontend: url } }, FAST);
    expect(report.passed).toBe(0);
    expect(report.results[0]!.message).toBe(`GET ${url}/health: connection refused (ECONNREFUSED): is the service running?`);
  });
});

describe('ecom smoke', () => {
  it('prints PASS/FAIL lines and the summary alone on the last line, and exits 1 on a failure', async () => {
    system = await startFakeSystem({ searchEmpty: true });
    const out = sink();
    const err = sink();
    const output = createOutput({ isTTY: false, env: {}, stdout: out.stream, stderr: err.stream });
    const code = await runSmoke({ cwd: process.cwd(), json: false, timeout: 20_000 }, { output, endpoints: system.endpoints, deadlines: FAST.deadlines });
    expect(code).toBe(1);
    const lines = out.text().trimEnd().split('\n');
    expect(lines.at(-1)).toBe('14 passed, 1 failed');
    expect(lines.at(-2)).toBe('');
    expect(lines).toContainEqual(expect.stringMatching(/^PASS catalog returns products \(\d+ ms\) — 2 of 2 products on the first page$/));
    expect(lines.some((l) => l.startsWith('FAIL search "lap" finds "Laptop Pro 14" ('))).toBe(true);
    expect(out.text()).not.toContain('\u001b[');
    expect(err.text()).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z smoke: checking the system at/);
  });

  it('--json writes one document to stdout and --junit a report file, exit 0 when green', async () => {
    system = await startFakeSystem();
    const dir = mkdtempSync(join(tmpdir(), 'ecom-smoke-'));
    try {
      const out = sink();
      const err = sink();
      const output = createOutput({ json: true, env: {}, stdout: out.stream, stderr: err.stream });
      const code = await runSmoke(
        { cwd: dir, json: true, junit: 'reports/smoke.xml', timeout: 20_000 },
        { output, endpoints: system.endpoints, deadlines: FAST.deadlines },
      );
      expect(code).toBe(0);
      const doc = JSON.parse(out.text()) as { ok: boolean; passed: number; failed: number; checks: Array<{ name: string; status: string }> };
      expect(doc).toMatchObject({ ok: true, passed: 15, failed: 0 });
      expect(doc.checks).toHaveLength(15);
      const xml = readFileSync(join(dir, 'reports/smoke.xml'), 'utf8');
      expect(xml).toContain('<testsuite name="ecom smoke" tests="15" failures="0" errors="0" skipped="0"');
      expect(err.text()).toContain('15 passed, 0 failed');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says nothing is running and exits 1 with the hint `ecom up` when no system is up', async () => {
    const runtime = { endpoints: async () => undefined } as unknown as Runtime;
    const output = createOutput({ isTTY: false, env: {}, stdout: sink().stream, stderr: sink().stream });
    const error = await runSmoke({ cwd: process.cwd(), json: false, timeout: 1_000 }, { runtime, output }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EcomError);
    expect((error as EcomError).exitCode).toBe(1);
    expect((error as EcomError).message).toBe('nothing is running, so there is nothing to check');
    expect((error as EcomError).hint).toContain('`ecom up`');
  });
});
