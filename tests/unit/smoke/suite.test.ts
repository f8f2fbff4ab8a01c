import { describe, expect, it } from 'vitest';
import { formatReport, summaryLine } from '../../../src/smoke/report.js';
import { CheckFailed } from '../../../src/smoke/http.js';
import { runCheck, runSmokeSuite } from '../../../src/smoke/suite.js';
import type { SmokeCheck, SmokeReport } from '../../../src/smoke/types.js';
import type { Endpoints } from '../../../src/core/system.js';

const ENDPOINTS: Endpoints = {
  services: { catalog: 'http://127.0.0.1:1', search: 'http://127.0.0.1:2', order: 'http://127.0.0.1:3', frontend: 'http://127.0.0.1:4' },
};

const check = (name: string, run: SmokeCheck['run'], extra: Partial<SmokeCheck> = {}): SmokeCheck => ({ name, deadlineMs: 1_000, phase: 1, run, ...extra });

describe('running one check', () => {
  it('fails a check that passes its deadline, with the last thing it saw', async () => {
    const hangs = check('hangs', async (ctx) => {
      ctx.saw('order 42 created; waiting');
      await new Promise(() => {});
    });
    const result = await runCheck(hangs, ENDPOINTS, 100);
    expect(result).toMatchObject({ name: 'hangs', status: 'failed', message: 'no result within 0.1 s; last seen: order 42 created; waiting' });
    expect(result.durationMs).toBeGreaterThanOrEqual(90);
  });

  it('aborts the check\'s signal at the deadline so its requests stop', async () => {
    let aborted = false;
    const listens = check('listens', (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => ((aborted = true), reject(new Error('aborted'))))));
    await runCheck(listens, ENDPOINTS, 50);
    expect(aborted).toBe(true);
  });

  it('reports a CheckFailed message as it is, and an unexpected error as such', async () => {
    expect(await runCheck(check('a', async () => { throw new CheckFailed('saw HTTP 500'); }), ENDPOINTS, 1_000)).toMatchObject({ status: 'failed', message: 'saw HTTP 500' });
    expect(await runCheck(check('b', async () => { throw new TypeError('x is undefined'); }), ENDPOINTS, 1_000)).toMatchObject({ status: 'failed', message: 'unexpected error: x is undefined' });
  });

  it('skips a check that does not apply, and keeps a pass note', async () => {
    expect(await runCheck(check('p', async () => 'fine', { skip: () => 'no Prometheus' }), ENDPOINTS, 1_000)).toMatchObject({ status: 'skipped', message: 'no Prometheus' });
    expect(await runCheck(check('p', async () => 'fine'), ENDPOINTS, 1_000)).toMatchObject({ status: 'passed', message: 'fine' });
  });
});

describe('running the suite', () => {
  it('runs a phase concurrently, starts phase 2 after phase 1, and keeps definition order', async () => {
    const events: string[] = [];
    const step = (name: string, ms: number, phase: 1 | 2) =>
      check(name, async () => {
        events.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        events.push(`end ${name}`);
      }, { phase });
    const report = await runSmokeSuite(ENDPOINTS, { timeoutMs: 5_000, checks: [step('slow', 60, 1), step('fast', 10, 1), step('later', 1, 2)] });
    expect(events).toEqual(['start slow', 'start fast', 'end fast', 'end slow', 'start later', 'end later']);
    expect(report.results.map((r) => r.name)).toEqual(['slow', 'fast', 'later']);
    expect(report).toMatchObject({ ok: true, passed: 3, failed: 0, skipped: 0 });
  });

  it('caps every check by the suite timeout', async () => {
    const report = await runSmokeSuite(ENDPOINTS, {
      timeoutMs: 100,
      checks: [check('forever', () => new Promise(() => {}), { deadlineMs: 60_000 })],
    });
    expect(report.results[0]!.message).toMatch(/^no result within 0\.1 s/);
    expect(report.ok).toBe(false);
  });
});

describe('the human report', () => {
  const report: SmokeReport = {
    ok: false, passed: 1, failed: 1, skipped: 1, durationMs: 30, startedAt: '2030-01-01T00:00:00.000Z',
    results: [
      { name: 'catalog returns products', status: 'passed', durationMs: 12 },
      { name: 'search finds it', status: 'failed', durationMs: 8, message: 'not found: no results' },
      { name: 'Prometheus reports every target up', status: 'skipped', durationMs: 0, message: 'Prometheus is not running' },
    ],
  };

  it('uses ✓/✗ on a TTY and PASS/FAIL otherwise, with the summary alone on the last line', () => {
    expect(formatReport(report, { symbols: true }).split('\n')).toEqual([
      '✓ catalog returns products (12 ms)',
      '✗ search finds it (8 ms)',
      '    not found: no results',
      '- Prometheus reports every target up (skipped: Prometheus is not running)',
      '',
      '1 passed, 1 failed',
    ]);
    expect(formatReport(report, { symbols: false }).split('\n').slice(0, 2)).toEqual(['PASS catalog returns products (12 ms)', 'FAIL search finds it (8 ms)']);
    expect(summaryLine({ passed: 14, failed: 0 })).toBe('14 passed, 0 failed');
  });
});
