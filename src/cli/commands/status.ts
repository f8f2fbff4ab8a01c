/** `ecom status`: services, dependencies and URLs, once or every 2 s with --watch. */
import { systemClock } from '../../core/poll.js';
import { detectRuntime } from '../../runtime/detect.js';
import { StatusObserver } from '../../observe/observer.js';
import type { FiringAlert, PortForwardStatus, Runtime, ServiceDetail, ServiceMetrics, SystemStatus } from '../../runtime/types.js';
import { createOutput, type OutputMode } from '../output.js';
import { NO_PAINT, type Paint } from '../../core/text.js';
import { formatEndpoints } from './up.js';
import { DEFAULT_WIDTH, formatFittedTable, terminalWidth } from '../render.js';

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
  const observer = new StatusObserver();
  if (!options.watch) {
    const status = await observer.observe(await runtime.status());
    out.result(renderStatus(status, paint, new Date(), terminalWidth()), status);
    return 0;
  }
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await watchStatus(runtime, { mode: out.mode, paint, signal: stop.signal, observer });
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
  /** Columns to fit (the terminal's by default). */
  width?: number;
  /** Adds metrics and alerts; kept across refreshes, so each needs one scrape and no wait. */
  observer?: Pick<StatusObserver, 'observe'>;
}

/**
 * Redraws until the signal aborts: in place on a TTY, a new timestamped block
 * otherwise, and with --json one compact JSON document per line per refresh (NDJSON).
 */
export async function watchStatus(runtime: Pick<Runtime, 'status'>, options: WatchOptions): Promise<void> {
  const { mode, paint, signal, observer } = options;
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const width = options.width ?? terminalWidth();
  if (mode === 'tty') write(ALTERNATE_SCREEN_ON);
  try {
    while (!signal.aborted) {
      const raw = await runtime.status();
      const status = observer ? await observer.observe(raw) : raw;
      if (signal.aborted) break;
      write(watchFrame(status, mode, paint, new Date(), width));
      // Returns early on abort, holding one listener that it removes either way.
      await systemClock.sleep(options.intervalMs ?? WATCH_INTERVAL_MS, signal);
    }
  } finally {
    if (mode === 'tty') write(ALTERNATE_SCREEN_OFF);
  }
}

/** Switches a terminal to its alternate screen (and back), so a watch leaves no copies in the scrollback. */
export const ALTERNATE_SCREEN_ON = '\x1b[?1049h';
export const ALTERNATE_SCREEN_OFF = '\x1b[?1049l';

/** One refresh as written to stdout: on a TTY the screen redrawn from its top, with when it was refreshed. */
export function watchFrame(status: SystemStatus, mode: OutputMode, paint: Paint = NO_PAINT, now = new Date(), width = DEFAULT_WIDTH): string {
  if (mode === 'json') return `${JSON.stringify(status)}\n`;
  const at = now.toTimeString().slice(0, 8);
  if (mode === 'tty') return `\x1b[H\x1b[J${renderStatus(status, paint, now, width)}\n\n${paint.dim(`refreshed at ${at}, every 2 s; Ctrl-C to stop`)}\n`;
  return `--- ${now.toISOString()} ---\n${renderStatus(status, paint, now, width)}\n`;
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

function table(rows: string[][], paintCell: (row: number, col: number, text: string) => string, width = DEFAULT_WIDTH): string {
  const painted = rows.map((r, i) => r.map((cell, c) => paintCell(i, c, cell)));
  return formatFittedTable(painted.slice(1), { header: painted[0], width });
}

/**
 * Every line within `width` (80 unless the terminal says otherwise): the URL is not a
 * column (the URLs are listed once, below), and a long DETAIL wraps under itself.
 */
export function renderStatus(status: SystemStatus, paint: Paint = NO_PAINT, now = new Date(), width = DEFAULT_WIDTH): string {
  if (!status.running) return 'not running (start it with `ecom up`)';
  const tone = (text: string) => {
    const t = text.trim();
    if (['running', 'ok', 'external', 'ready'].includes(t)) return paint.ok(text);
    if (['degraded', 'starting', 'restarting', 'connecting', 'backoff'].includes(t)) return paint.warn(text);
    if (['stopped', 'crashed', 'unavailable', 'unreachable', 'missing'].includes(t)) return paint.fail(text);
    return text;
  };
  const services = [
    ['SERVICE', 'STATE', 'READY', 'HEALTH', 'RESTARTS', 'DETAIL'],
    ...status.services.map((s) => [s.name, s.state, `${s.ready}/${s.desired}`, s.health, String(s.restarts), describeDetail(s.detail)]),
  ];
  const deps = [['DEPENDENCY', 'STATE', 'DETAIL'], ...status.dependencies.map((d) => [d.name, d.state, d.detail])];
  const paintCell = (row: number, _col: number, text: string) => (row === 0 ? paint.bold(text) : tone(text));
  const parts = [`runtime: ${status.runtime}`, table(services, paintCell, width), '', table(deps, paintCell, width)];
  const supervisor = status.supervisor;
  if (supervisor?.state === 'gone') parts.splice(1, 0, paint.fail(`supervisor: ${supervisor.detail}`), `  hint: ${supervisor.hint ?? 'run `ecom up`'}`, '');
  if (status.forwards?.length) {
    const forwards = [
      ['FORWARD', 'LOCAL', 'STATE', 'RECONNECTS', 'DETAIL'],
      ...status.forwards.map((f) => [f.name, `127.0.0.1:${f.localPort}`, f.state, String(f.reconnects), describeForward(f)]),
    ];
    parts.push('', table(forwards, paintCell, width));
  }
  const traffic = renderTraffic(status, paint);
  if (traffic) parts.push('', traffic);
  if (status.services.some((s) => s.metrics) || status.alerts) parts.push('', renderAlerts(status.alerts, paint, now));
  if (status.endpoints) parts.push('', 'URLs', formatEndpoints(status.endpoints));
  return parts.join('\n');
}

/** `12.3`, `0.41`, `1520`: requests per second to about three significant digits. */
export function formatRate(perSecond: number | undefined): string {
  if (perSecond === undefined) return '-';
  if (perSecond === 0) return '0';
  if (perSecond < 10) return perSecond.toFixed(2);
  if (perSecond < 100) return perSecond.toFixed(1);
  return perSecond.toFixed(0);
}

/** `850us`, `4.2ms`, `120ms`, `1.35s`. */
export function formatLatency(seconds: number | undefined): string {
  if (seconds === undefined) return '-';
  if (seconds < 0.001) return `${Math.round(seconds * 1_000_000)}us`;
  if (seconds < 0.01) return `${(seconds * 1000).toFixed(1)}ms`;
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  return `${seconds.toFixed(2)}s`;
}

/** `0.0%`, `12.5%`. */
export const formatRatio = (ratio: number | undefined): string => (ratio === undefined ? '-' : `${(ratio * 100).toFixed(1)}%`);

/** Where the numbers come from, in words. */
export function describeMetricsSource(metrics: ServiceMetrics): string {
  if (metrics.source === 'prometheus') return `from Prometheus's recorded series, over the last ${metrics.windowSeconds % 60 === 0 ? `${metrics.windowSeconds / 60}m` : formatUptime(metrics.windowSeconds)}`;
  return `from two /metrics scrapes ${metrics.windowSeconds.toFixed(1)} s apart (no Prometheus; the scrapes themselves not counted)`;
}

/** A service's request rate, p95 and 5xx ratio; nothing when no service has numbers. */
function renderTraffic(status: SystemStatus, paint: Paint): string | undefined {
  const measured = status.services.find((s) => s.metrics)?.metrics;
  if (!measured) return undefined;
  const rows = [
    ['TRAFFIC', 'REQ/S', 'P95', 'ERRORS'],
    ...status.services.map((s) => [s.name, formatRate(s.metrics?.requestsPerSecond), formatLatency(s.metrics?.p95Seconds), formatRatio(s.metrics?.errorRatio)]),
  ];
  const failing = (row: number) => (status.services[row - 1]?.metrics?.errorRatio ?? 0) > 0;
  const paintCell = (row: number, col: number, text: string) => (row === 0 ? paint.bold(text) : col === 3 && failing(row) ? paint.fail(text) : text);
  return `${table(rows, paintCell)}\n  ${paint.dim(describeMetricsSource(measured))}`;
}

/** The firing alerts, or a line saying there are none, or that nobody can tell (no Prometheus). */
export function renderAlerts(alerts: FiringAlert[] | undefined, paint: Paint = NO_PAINT, now = new Date()): string {
  if (!alerts) return `alerts: ${paint.dim('unknown (no Prometheus answers)')}`;
  if (alerts.length === 0) return `alerts: ${paint.ok('none firing')}`;
  const since = (a: FiringAlert) => (a.activeAt ? formatUptime(Math.max(0, Math.round((now.getTime() - Date.parse(a.activeAt)) / 1000))) : '-');
  const rows = [
    ['ALERT', 'SEVERITY', 'SERVICE', 'FOR', 'SUMMARY'],
    ...alerts.map((a) => [a.name, a.severity ?? '-', a.service ?? '-', since(a), a.summary ?? '-']),
  ];
  const paintCell = (row: number, col: number, text: string) => {
    if (row === 0) return paint.bold(text);
    if (col !== 1) return text;
    return alerts[row - 1]!.severity === 'page' ? paint.fail(text) : paint.warn(text);
  };
  return table(rows, paintCell);
}
