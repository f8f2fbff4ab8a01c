/** `ecom status`: services, dependencies and URLs, once or every 2 s with --watch. */
import { systemClock } from '../../core/poll.js';
import { detectRuntime } from '../../runtime/detect.js';
import type { PortForwardStatus, Runtime, ServiceDetail, SystemStatus } from '../../runtime/types.js';
import { createOutput, type OutputMode } from '../output.js';
import { NO_PAINT, type Paint } from '../../core/text.js';
import { formatEndpoints } from './up.js';

export const WATCH_INTERVAL_MS = 2_000;

export interface StatusCommandOptions {
  cwd: string;
  verbose?: boolean;
  json?: boolean;
  watch?: boolean;
  runtime?: string;
}

export async function runStatus(options: StatusCommandOptions): Promise<number> {
  const out = createOutput({ json: options.json ?? false });
  const { runtime } = await detectRuntime({ cwd: options.cwd, name: options.runtime });
  const paint = await out.paint();
  if (!options.watch) {
    const status = await runtime.status();
    out.result(renderStatus(status, paint), status);
    return 0;
  }
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await watchStatus(runtime, { mode: out.mode, paint, signal: stop.signal });
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  return 0;
}

export interface WatchOptions {
  mode: OutputMode;
  paint: Paint;
  /** Ends the watch (SIGINT/SIGTERM in the command). */
  signal: AbortSignal;
  intervalMs?: number;
  write?: (text: string) => void;
}

/**
 * Redraws until the signal aborts: in place on a TTY, a new timestamped block
 * otherwise, and with --json one compact JSON document per line per refresh (NDJSON).
 */
export async function watchStatus(runtime: Runtime, options: WatchOptions): Promise<void> {
  const { mode, paint, signal } = options;
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  while (!signal.aborted) {
    const status = await runtime.status();
    if (signal.aborted) break;
    write(watchFrame(status, mode, paint));
    // Returns early on abort, holding one listener that it removes either way.
    await systemClock.sleep(options.intervalMs ?? WATCH_INTERVAL_MS, signal);
  }
}

/** One refresh as written to stdout. */
export function watchFrame(status: SystemStatus, mode: OutputMode, paint: Paint = NO_PAINT, now = new Date()): string {
  if (mode === 'json') return `${JSON.stringify(status)}\n`;
  if (mode === 'tty') return `\x1b[H\x1b[2J${renderStatus(status, paint)}\n${paint.dim('refreshing every 2 s; Ctrl-C to stop')}\n`;
  return `--- ${now.toISOString()} ---\n${renderStatus(status, paint)}\n`;
}

export function formatUptime(seconds: number | undefined): string {
  if (seconds === undefined) return '-';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

/** The runtime's own column: `pid 4242, up 3m05s` locally, one `name phase` per pod in a cluster. */
export function describeDetail(detail: ServiceDetail): string {
  if (detail.kind === 'process') {
    const parts: string[] = [];
    if (detail.pid) parts.push(`pid ${detail.pid}`);
    if (detail.uptimeSeconds !== undefined) parts.push(`up ${formatUptime(detail.uptimeSeconds)}`);
    return parts.join(', ') || '-';
  }
  const described = detail.pods.map((p) => `${p.name} ${p.reason ?? p.phase}${p.ready ? '' : ' (not ready)'}${p.restarts > 0 ? `, ${p.restarts} restarts` : ''}`);
  const pods = described.length === 0 ? 'no pods' : described.join('; ');
  const hpa = detail.autoscaler;
  if (!hpa) return pods;
  const metrics = hpa.metrics ? `; ${hpa.metrics}` : '';
  return `${pods}; hpa current ${hpa.currentReplicas}, target ${hpa.desiredReplicas} (min ${hpa.minReplicas}, max ${hpa.maxReplicas}${metrics})`;
}

/** A forward's last column: where it goes while ready (and what it last lost), else what it waits for or why it backs off. */
export function describeForward(forward: PortForwardStatus): string {
  if (forward.state === 'ready') {
    const lost = forward.reconnects > 0 && forward.lastError ? ` (last: ${forward.lastError})` : '';
    return `pod ${forward.pod ?? '?'}${lost}`;
  }
  return forward.waitingFor ?? forward.lastError ?? '-';
}

function table(rows: string[][], paintCell: (row: number, col: number, text: string) => string): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r, i) => `  ${r.map((cell, c) => paintCell(i, c, c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')}`.trimEnd())
    .join('\n');
}

export function renderStatus(status: SystemStatus, paint: Paint = NO_PAINT): string {
  if (!status.running) return 'not running (start it with `ecom up`)';
  const tone = (text: string) => {
    const t = text.trim();
    if (['running', 'ok', 'external', 'ready'].includes(t)) return paint.ok(text);
    if (['degraded', 'starting', 'restarting', 'connecting', 'backoff'].includes(t)) return paint.warn(text);
    if (['stopped', 'crashed', 'unavailable', 'unreachable', 'missing'].includes(t)) return paint.fail(text);
    return text;
  };
  const services = [
    ['SERVICE', 'STATE', 'READY', 'HEALTH', 'RESTARTS', 'URL', 'DETAIL'],
    ...status.services.map((s) => [s.name, s.state, `${s.ready}/${s.desired}`, s.health, String(s.restarts), s.url, describeDetail(s.detail)]),
  ];
  const deps = [['DEPENDENCY', 'STATE', 'DETAIL'], ...status.dependencies.map((d) => [d.name, d.state, d.detail])];
  const paintCell = (row: number, _col: number, text: string) => (row === 0 ? paint.bold(text) : tone(text));
  const parts = [`runtime: ${status.runtime}`, table(services, paintCell), '', table(deps, paintCell)];
  if (status.forwards?.length) {
    const forwards = [
      ['FORWARD', 'LOCAL', 'STATE', 'RECONNECTS', 'DETAIL'],
      ...status.forwards.map((f) => [f.name, `127.0.0.1:${f.localPort}`, f.state, String(f.reconnects), describeForward(f)]),
    ];
    parts.push('', table(forwards, paintCell));
  }
  if (status.endpoints) parts.push('', 'URLs', formatEndpoints(status.endpoints));
  return parts.join('\n');
}
