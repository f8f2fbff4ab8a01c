/** The smoke report for humans (a list with ✓/✗, or PASS/FAIL without a TTY) and as JSON. */
import type { Endpoints } from '../core/system.js';
import { NO_PAINT, formatDuration, type Paint } from '../core/text.js';
import type { CheckResult, SmokeReport } from './types.js';

export interface FormatOptions {
  /** Symbols (✓ ✗ -) on a TTY, words (PASS FAIL SKIP) otherwise. */
  symbols: boolean;
  paint?: Paint;
}

export function formatReport(report: SmokeReport, options: FormatOptions): string {
  const paint = options.paint ?? NO_PAINT;
  const lines = report.results.flatMap((r) => formatResult(r, options.symbols, paint));
  return [...lines, '', summaryLine(report)].join('\n');
}

/** Exactly `N passed, M failed`, the last line of the human report. */
export function summaryLine(report: Pick<SmokeReport, 'passed' | 'failed'>): string {
  return `${report.passed} passed, ${report.failed} failed`;
}

function formatResult(r: CheckResult, symbols: boolean, paint: Paint): string[] {
  const time = paint.dim(`(${formatDuration(r.durationMs)})`);
  switch (r.status) {
    case 'passed':
      return [`${paint.ok(symbols ? '✓' : 'PASS')} ${r.name} ${time}${r.message ? paint.dim(` — ${r.message}`) : ''}`];
    case 'failed':
      return [`${paint.fail(symbols ? '✗' : 'FAIL')} ${r.name} ${time}`, ...indent(r.message ?? 'failed').map(paint.fail)];
    case 'skipped':
      return [`${paint.dim(symbols ? '-' : 'SKIP')} ${r.name} ${paint.dim(`(skipped: ${r.message ?? 'not applicable'})`)}`];
  }
}

function indent(text: string): string[] {
  return text.split('\n').map((l) => `    ${l}`);
}

export function reportJson(report: SmokeReport, endpoints: Endpoints): unknown {
  return {
    ok: report.ok,
    passed: report.passed,
    failed: report.failed,
    skipped: report.skipped,
    durationMs: report.durationMs,
    startedAt: report.startedAt,
    endpoints,
    checks: report.results,
  };
}
