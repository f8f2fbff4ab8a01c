/**
 * Output modes (DESIGN section 3): a TTY gets colour and live progress; anything else
 * (pipes, CI=true, NO_COLOR) gets plain timestamped lines; --json prints exactly one
 * JSON document on stdout. Human text always goes to stderr so stdout stays pipeable.
 */
import type { ProgressEvent } from '../runtime/types.js';

export type OutputMode = 'tty' | 'plain' | 'json';

export interface Output {
  readonly mode: OutputMode;
  /** Whether ANSI colour may be used on stderr/stdout. */
  readonly color: boolean;
  /** Progress of a long operation. */
  progress(event: ProgressEvent): void;
  /** A human line on stderr (timestamped in plain mode). */
  info(message: string): void;
  warn(message: string): void;
  /** The command's result on stdout: text for humans, or the JSON document in json mode. */
  result(human: string, json: unknown): void;
}

export interface OutputEnv {
  json?: boolean;
  isTTY?: boolean;
  env?: NodeJS.ProcessEnv;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  now?: () => Date;
}

export function detectMode(opts: OutputEnv): OutputMode {
  if (opts.json) return 'json';
  const env = opts.env ?? process.env;
  const isTTY = opts.isTTY ?? Boolean(process.stderr.isTTY);
  if (!isTTY || isTrue(env.CI) || env.TERM === 'dumb') return 'plain';
  return 'tty';
}

function isTrue(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

export function createOutput(opts: OutputEnv = {}): Output {
  const mode = detectMode(opts);
  const env = opts.env ?? process.env;
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  const now = opts.now ?? (() => new Date());
  const color = mode === 'tty' && !env.NO_COLOR;
  const line = (text: string) => {
    const stamp = mode === 'tty' ? '' : `${now().toISOString()} `;
    stderr.write(`${stamp}${text}\n`);
  };
  return {
    mode,
    color,
    progress: (event) => line(describeProgress(event)),
    info: (message) => line(message),
    warn: (message) => line(`warning: ${message}`),
    result: (human, json) => {
      if (mode === 'json') stdout.write(`${JSON.stringify(json, null, 2)}\n`);
      else if (human !== '') stdout.write(human.endsWith('\n') ? human : `${human}\n`);
    },
  };
}

export function describeProgress(event: ProgressEvent): string {
  switch (event.kind) {
    case 'start':
      return `${event.task}: starting`;
    case 'waiting':
      return `${event.task}: still waiting (${event.reason})`;
    case 'done':
      return `${event.task}: done${event.detail ? ` (${event.detail})` : ''}`;
    case 'skip':
      return `${event.task}: skipped (${event.reason})`;
    case 'warn':
      return `${event.task}: warning: ${event.message}`;
  }
}
