/**
 * The level of a log line, whoever wrote it, for `ecom logs --level` (docs/architecture.md,
 * "Core helpers"). Our services log pino JSON; the dependencies write their own formats,
 * mapped onto pino's levels:
 *
 * | writer | format | mapping |
 * |---|---|---|
 * | services, ecom's notes | pino JSON `level` (10…60 or a name) | as is |
 * | PostgreSQL | `… LOG:  …`, `WARNING:`, `ERROR:` … | DEBUGn → debug; LOG, INFO, NOTICE → info; WARNING → warn; ERROR → error; FATAL, PANIC → fatal |
 * | RabbitMQ, the supervisor | `[info]`, `[warning]`, `[error]` … | debug; info, notice → info; warning → warn; error → error; critical, alert, emergency → fatal |
 * | Prometheus | logfmt `level=info` | by name |
 *
 * A line with no level of its own: from a service it is output the service did not
 * log through pino (a crash's stack trace, a Node warning), so it counts as `error`; from
 * a dependency it is `info` when it starts with a date (a record of its own, like most
 * of the supervisor's lines), else it continues the line before it (PostgreSQL's DETAIL,
 * a multi-line message) and takes that line's level.
 */
import type { LogLine, LogSource } from './log-merge.js';
import { SERVICE_NAMES } from './system.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const RANK: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

const BY_NAME: Record<string, LogLevel> = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  notice: 'info',
  log: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  err: 'error',
  fatal: 'fatal',
  panic: 'fatal',
  critical: 'fatal',
  crit: 'fatal',
  alert: 'fatal',
  emergency: 'fatal',
};

const POSTGRES_TAG = /\b(DEBUG[1-5]|LOG|INFO|NOTICE|WARNING|ERROR|FATAL|PANIC):\s/;
const BRACKET_TAG = /\[(debug|info|notice|warning|warn|error|critical|alert|emergency)\]/i;
const LOGFMT_LEVEL = /(?:^|\s)level=(\w+)/i;
/** PostgreSQL's lines that belong to the message before them. */
const POSTGRES_CONTINUATION = /\b(DETAIL|HINT|CONTEXT|STATEMENT|QUERY|LOCATION):\s/;
/** A line that starts with a date starts a record of its own. */
const STARTS_WITH_DATE = /^\d{4}-\d{2}-\d{2}[T ]/;

/** A level from its name or pino number; undefined when it is neither. */
export function levelFromName(value: unknown): LogLevel | undefined {
  if (typeof value === 'number') {
    const exact = LOG_LEVELS.find((l) => RANK[l] === value);
    return exact ?? (value >= 60 ? 'fatal' : undefined);
  }
  if (typeof value !== 'string') return undefined;
  const name = value.toLowerCase();
  return name.startsWith('debug') ? 'debug' : BY_NAME[name];
}

/** The level a line states itself, in any of the formats above; undefined when it states none. */
export function statedLevel(text: string): LogLevel | undefined {
  if (text.startsWith('{')) {
    try {
      const record = JSON.parse(text) as { level?: unknown };
      const level = levelFromName(record.level);
      if (level) return level;
    } catch {
      // not JSON after all: try the other formats
    }
  }
  const tag = BRACKET_TAG.exec(text) ?? LOGFMT_LEVEL.exec(text) ?? POSTGRES_TAG.exec(text);
  return tag ? levelFromName(tag[1]) : undefined;
}

const isService = (source: LogSource) => (SERVICE_NAMES as readonly string[]).includes(source);

/** A line's level; `before` is the level of the line before it from the same writer. */
function levelOf(line: LogLine, before: LogLevel | undefined): LogLevel {
  const stated = statedLevel(line.line);
  if (stated) return stated;
  if (isService(line.service)) return 'error';
  const continues = POSTGRES_CONTINUATION.test(line.line) || !STARTS_WITH_DATE.test(line.line);
  return continues ? (before ?? 'info') : 'info';
}

/**
 * Keeps lines at `min` or above. Stateful per source, so a continuation line goes with
 * the line before it even across reads; make one per stream.
 */
export function levelFilter(min: LogLevel | undefined): (line: LogLine) => boolean {
  if (!min) return () => true;
  const previous = new Map<LogSource, LogLevel>();
  return (line) => {
    const level = levelOf(line, previous.get(line.service));
    previous.set(line.service, level);
    return RANK[level] >= RANK[min];
  };
}
