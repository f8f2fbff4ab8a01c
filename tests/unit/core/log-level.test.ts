import { describe, expect, it } from 'vitest';
import { levelFilter, statedLevel } from '../../../src/core/log-level.js';
import type { LogLine, LogSource } from '../../../src/core/log-merge.js';

const at = (service: LogSource, line: string): LogLine => ({ service, line });
const kept = (level: Parameters<typeof levelFilter>[0], lines: LogLine[]) => lines.filter(levelFilter(level)).map((l) => l.line);

describe('the level of a log line, whoever wrote it', () => {
  it('reads pino JSON by number or name, and ecom notes', () => {
    expect(statedLevel('{"level":20,"msg":"request completed"}')).toBe('debug');
    expect(statedLevel('{"level":50,"msg":"boom"}')).toBe('error');
    expect(statedLevel('{"level":"warn","msg":"exited (signal SIGKILL)","ecom":"supervisor"}')).toBe('warn');
  });

  it("maps PostgreSQL's, RabbitMQ's, Prometheus's and the supervisor's own formats", () => {
    expect(statedLevel('2026-12-01 08:49:43.123 UTC [4242] LOG:  database system is ready to accept connections')).toBe('info');
    expect(statedLevel('2026-12-01 08:49:43.123 UTC [4242] WARNING:  could not flush dirty data')).toBe('warn');
    expect(statedLevel('2026-12-01 08:49:43.123 UTC [4242] FATAL:  the database system is starting up')).toBe('fatal');
    expect(statedLevel('2026-12-01 08:49:43.123 UTC [4242] DEBUG3:  checkpointer')).toBe('debug');
    expect(statedLevel('2026-12-01 08:49:43.123456+00:00 [warning] <0.230.0> Free disk space is low')).toBe('warn');
    expect(statedLevel('2026-12-01 08:49:43.123456+00:00 [notice] <0.44.0> Logging: configured log handlers')).toBe('info');
    expect(statedLevel('ts=2026-12-01T08:49:43.123Z caller=main.go:1 level=error msg="scrape failed"')).toBe('error');
    expect(statedLevel('time=2026-12-01T08:49:43.123Z level=WARN source=x msg=y')).toBe('warn');
    expect(statedLevel('2026-12-01T08:49:43.123Z [warn] postgres exited (SIGKILL) after 5000 ms; restarting in 500 ms (restart 1)')).toBe('warn');
    expect(statedLevel('2026-12-01T08:49:43.123Z started: catalog, search')).toBeUndefined();
  });

  it('keeps lines at the level or above; a service line that is not pino output is an error (a crash trace)', () => {
    const lines = [at('catalog', '{"level":20,"msg":"request completed"}'), at('catalog', '{"level":30,"msg":"listening"}'), at('catalog', 'TypeError: boom'), at('catalog', '    at main.js:1')];
    expect(kept('info', lines)).toEqual(['{"level":30,"msg":"listening"}', 'TypeError: boom', '    at main.js:1']);
    expect(kept('error', lines)).toEqual(['TypeError: boom', '    at main.js:1']);
    expect(kept('debug', lines)).toEqual(lines.map((l) => l.line));
    expect(kept(undefined, lines)).toEqual(lines.map((l) => l.line));
  });

  it("a dependency's dated line without a level is info; an undated one or PostgreSQL's DETAIL goes with the line before it", () => {
    const lines = [
      at('supervisor', '2026-12-01T08:49:40.000Z supervisor 42 starting'),
      at('postgres', '2026-12-01 08:49:43.123 UTC [4242] ERROR:  duplicate key value'),
      at('postgres', '2026-12-01 08:49:43.123 UTC [4242] DETAIL:  Key (id)=(1) already exists.'),
      at('postgres', '2026-12-01 08:49:44.000 UTC [4242] LOG:  checkpoint starting'),
      at('postgres', '\tcontinued'),
    ];
    expect(kept('warn', lines)).toEqual(['2026-12-01 08:49:43.123 UTC [4242] ERROR:  duplicate key value', '2026-12-01 08:49:43.123 UTC [4242] DETAIL:  Key (id)=(1) already exists.']);
    expect(kept('info', lines)).toEqual(lines.map((l) => l.line));
    const supervisor = [at('supervisor', '2026-12-01T08:43:48.913Z [warn] postgres exited (SIGKILL)'), at('supervisor', '2026-12-01T08:44:44.655Z supervisor 21127 starting')];
    expect(kept('warn', supervisor)).toEqual(['2026-12-01T08:43:48.913Z [warn] postgres exited (SIGKILL)']);
  });
});
