/**
 * Output modes (docs/architecture.md, "Output"): a TTY gets colour and live progress; anything else
 * (pipes, CI=true, NO_COLOR) gets plain timestamped lines; --json prints exactly one
 * JSON document on stdout. Human text always goes to stderr so stdout stays pipeable.
 */
import type { ProgressEvent } from '../runtime/types.js';
import { NO_PAINT, type Paint } from '../core/text.js';
import { TaskBoard, loadPaint } from './render.js';

export type OutputMode = 'tty' | 'plain' | 'json';

export interface Output {
  readonly mode: OutputMode;
  /** Whether ANSI colour may be used on stderr/stdout. */
  readonly color: boolean;
  /** Progress of a long operation: a live task board on a TTY, timestamped lines otherwise. */
  progress(event: ProgressEvent): void;
  /** A human line on stderr (timestamped in plain mode). */
  info(message: string): void;
  warn(message: string): void;
  /** The command's result on stdout: text for humans, or the JSON document in json mode. Once. */
  result(human: string, json: unknown): void;
  /** One line of a streamed result (log lines) on stdout; on stderr in json mode. */
  print(line: string): void;
  /** Stops the live board, leaving its last state on screen unless `clear`. Idempotent. */
  endProgress(options?: { clear?: boolean }): void;
  /** Colour functions for this output (identity functions when colour is off). */
  paint(): Promise<Paint>;
}

export interface OutputEnv {
  json?: boolean;
  isTTY?: boolean;
  env?: NodeJS.ProcessEnv;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream & { columns?: number };
  now?: () => Date;
}

export function detectMode(opts: OutputEnv): OutputMode {
  if (opts.json) return 'json';
  const env = opts.env ?? process.env;
  const isTTY = opts.isTTY ?? Boolean(process.stderr.isTTY);
  if (!isTTY || isTrue(env.CI) || env.TERM === 'dumb' || noColor(env)) return 'plain';
  return 'tty';
}

/**
 * NO_COLOR (any non-empty value) always wins; FORCE_COLOR=1..3 turns colour on even
 * off a TTY, FORCE_COLOR=0 turns it off on one. The JSON document never has colour.
 */
export function detectColor(mode: OutputMode, env: NodeJS.ProcessEnv): boolean {
  if (mode === 'json' || noColor(env)) return false;
  const forced = env.FORCE_COLOR;
  if (forced !== undefined && forced !== '') {
    return forced === 'true' || (Number(forced) >= 1 && Number(forced) <= 3);
  }
  return mode === 'tty';
}

function noColor(env: NodeJS.ProcessEnv): boolean {
  return env.NO_COLOR !== undefined && env.NO_COLOR !== '';
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
  const color = detectColor(mode, env);

  let loadedPaint: Paint | undefined;
  let paintPromise: Promise<Paint> | undefined;
  const paint = () => {
    paintPromise ??= loadPaint(color, env).then((p) => (loadedPaint = p));
    return paintPromise;
  };
  if (color) void paint();

  let board: TaskBoard | undefined;
  let resultWritten = false;
  const line = (text: string) => {
    if (mode === 'tty') {
      if (board) board.print(text);
      else stderr.write(`${text}\n`);
      return;
    }
    stderr.write(`${now().toISOString()} ${text}\n`);
  };
  const endProgress = (options?: { clear?: boolean }) => {
    board?.end(options);
    board = undefined;
  };

  return {
    mode,
    color,
    progress: (event) => {
      if (mode !== 'tty') return line(describeProgress(event));
      board ??= new TaskBoard(stderr, color, () => now().getTime());
      board.update(event);
    },
    info: (message) => line(message),
    warn: (message) => line(`${(loadedPaint ?? NO_PAINT).warn('warning:')} ${message}`),
    result: (human, json) => {
      if (mode === 'json') {
        // One document per run: a second one would make stdout unparseable.
        if (resultWritten) throw new Error('output.result() called twice in json mode');
        resultWritten = true;
        stdout.write(`${JSON.stringify(json, null, 2)}\n`);
        return;
      }
      endProgress();
      if (human !== '') stdout.write(human.endsWith('\n') ? human : `${human}\n`);
    },
    print: (text) => (mode === 'json' ? stderr : stdout).write(`${text}\n`),
    endProgress,
    paint,
  };
}

export function describeProgress(event: ProgressEvent): string {
  switch (event.kind) {
    case 'start':
      return `${event.task}: ${event.verb ?? 'starting'}`;
    case 'waiting':
      return `${event.task}: still waiting (${event.reason})`;
    case 'done':
      return `${event.task}: ${event.outcome ?? 'done'}${event.detail ? ` (${event.detail})` : ''}`;
    case 'skip':
      return `${event.task}: skipped (${event.reason})`;
    case 'warn':
      return `${event.task}: warning: ${event.message}`;
  }
}
