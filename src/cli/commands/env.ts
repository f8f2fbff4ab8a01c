/**
 * `ecom env`: how to reach each part of the running system from a shell or a tool —
 * DATABASE_URL, AMQP_URL, the RabbitMQ management login, Prometheus, Grafana, the
 * console and the services — as text, `--json`, or `--export` lines for
 * `eval "$(ecom env --export)"`. The values carry the generated passwords.
 */
import { EcomError } from '../../core/errors.js';
import { SERVICE_NAMES } from '../../core/system.js';
import { detectRuntime, type RuntimeChoice } from '../../runtime/detect.js';
import type { SystemAccess } from '../../runtime/types.js';
import { createOutput, type Output } from '../output.js';
import { formatPairs, terminalWidth, wrapWords } from '../render.js';

export interface EnvCommandOptions {
  cwd: string;
  verbose?: boolean;
  json?: boolean;
  export?: boolean;
  runtime?: string;
}

export interface EnvDeps {
  choice?: RuntimeChoice;
  output?: Output;
  width?: number;
}

export async function runEnv(options: EnvCommandOptions, deps: EnvDeps = {}): Promise<number> {
  const out = deps.output ?? createOutput({ json: options.json ?? false });
  const choice = deps.choice ?? (await detectRuntime({ cwd: options.cwd, name: options.runtime }));
  const access = await choice.runtime.access?.();
  if (!access) throw new EcomError(`nothing is up here (${choice.name} runtime, state in ${choice.stateDir})`, 'start it with `ecom up`');
  const human = options.export ? formatExport(access) : renderAccess(access, deps.width ?? terminalWidth());
  out.result(human, { ...access, variables: accessVariables(access) });
  return 0;
}

/** The variables a shell gets, in the names the services and common tools read. */
export function accessVariables(access: SystemAccess): Record<string, string> {
  const vars: Record<string, string> = {};
  const set = (name: string, value: string | undefined) => {
    if (value !== undefined) vars[name] = value;
  };
  set('DATABASE_URL', access.databaseUrl);
  set('AMQP_URL', access.amqpUrl);
  set('RABBITMQ_MANAGEMENT_URL', access.brokerManagement?.url);
  set('RABBITMQ_USER', access.brokerManagement?.user);
  set('RABBITMQ_PASSWORD', access.brokerManagement?.password);
  set('PROMETHEUS_URL', access.endpoints.prometheus);
  set('GRAFANA_URL', access.grafana?.url);
  set('GRAFANA_USER', access.grafana?.user);
  set('GRAFANA_PASSWORD', access.grafana?.password);
  set('ECOM_CONSOLE_URL', access.endpoints.console);
  for (const s of SERVICE_NAMES) set(`${s.toUpperCase()}_URL`, access.endpoints.services[s]);
  return vars;
}

/** POSIX single quotes: safe for any value in sh, bash and zsh. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `export NAME='value'` lines; notes as `#` comments, which eval ignores. */
export function formatExport(access: SystemAccess): string {
  const lines = Object.entries(accessVariables(access)).map(([name, value]) => `export ${name}=${shellQuote(value)}`);
  return [...access.notes.map((n) => `# ${n}`), ...lines].join('\n');
}

/** Grouped by part, every line within `width`; a value that does not fit beside its name goes whole on the next line. */
export function renderAccess(access: SystemAccess, width = 80): string {
  const e = access.endpoints;
  const sections: string[] = [`runtime: ${access.runtime}`];
  const section = (title: string, rows: Array<[string, string | undefined]>) => {
    const present = rows.filter((r): r is [string, string] => r[1] !== undefined);
    if (present.length > 0) sections.push('', title, formatPairs(present, { width }));
  };
  section('PostgreSQL', [['DATABASE_URL', access.databaseUrl]]);
  section('RabbitMQ', [
    ['AMQP_URL', access.amqpUrl],
    ['management', access.brokerManagement?.url],
    ['user', access.brokerManagement?.user],
    ['password', access.brokerManagement?.password],
  ]);
  section('Prometheus', [['PROMETHEUS_URL', e.prometheus]]);
  if (access.grafana) section('Grafana', [['GRAFANA_URL', access.grafana.url], ['user', access.grafana.user], ['password', access.grafana.password]]);
  section('Console', [['ECOM_CONSOLE_URL', e.console]]);
  section('Services', [...SERVICE_NAMES.map((s): [string, string] => [`${s.toUpperCase()}_URL`, s === 'frontend' ? `${e.services[s]}/ (storefront)` : e.services[s]])]);
  if (access.notes.length > 0) sections.push('', 'Notes', ...access.notes.flatMap((n) => wrapNote(n, width)));
  sections.push('', 'In a shell: eval "$(ecom env --export)"; for tools: ecom env --json');
  return sections.join('\n');
}

/** A note within `width`; an indented note is a command, wrapped with a backslash so it still pastes as one. */
function wrapNote(note: string, width: number): string[] {
  if (!note.startsWith('  ')) return wrapWords(note, width - 2).map((l, i) => (i === 0 ? `  ${l}` : `    ${l}`));
  const lines = wrapWords(note.trim(), width - 8);
  return lines.map((l, i) => `${i === 0 ? '    ' : '      '}${l}${i < lines.length - 1 ? ' \\' : ''}`);
}
