/**
 * Rendering helpers shared by the commands: colour (chalk, loaded only when colour is
 * on), tables whose columns line up whatever the colouring, and the live task board a
 * TTY gets for progress. Nothing here is imported eagerly by main.ts.
 */
import { NO_PAINT, type Paint } from '../core/text.js';
import type { ProgressEvent } from '../runtime/types.js';

/** Colour functions; chalk is imported only when colour is on. */
export async function loadPaint(color: boolean, env: NodeJS.ProcessEnv = process.env): Promise<Paint> {
  if (!color) return NO_PAINT;
  const { Chalk } = await import('chalk');
  const forced = Number(env.FORCE_COLOR);
  const chalk = new Chalk({ level: forced >= 1 && forced <= 3 ? (forced as 1 | 2 | 3) : 1 });
  // Not red or green: those already say error and ok.
  const distinct = [chalk.cyan, chalk.magenta, chalk.blue, chalk.yellow];
  return {
    ok: chalk.green,
    fail: chalk.red,
    warn: chalk.yellow,
    dim: chalk.dim,
    bold: chalk.bold,
    accent: chalk.cyan,
    nth: (index, text) => distinct[Math.abs(index) % distinct.length]!(text),
  };
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** Width on screen: no escape codes, one column per code point. */
export function visibleWidth(text: string): number {
  return [...stripAnsi(text)].length;
}

const identity = (text: string) => text;

export interface TableOptions {
  header?: string[];
  /** Applied to the header cells (after padding, so alignment is kept). */
  headerStyle?: (text: string) => string;
  gap?: number;
}

/** Rows of cells (which may already be coloured) as aligned columns; no trailing spaces. */
export function formatTable(rows: string[][], options: TableOptions = {}): string {
  const all = options.header ? [options.header, ...rows] : rows;
  const columns = Math.max(0, ...all.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, c) => Math.max(0, ...all.map((r) => visibleWidth(r[c] ?? ''))));
  const gap = ' '.repeat(options.gap ?? 2);
  const line = (row: string[], style: (t: string) => string = identity) =>
    row
      .map((cell, c) => (c === row.length - 1 ? style(cell) : style(cell) + ' '.repeat(widths[c]! - visibleWidth(cell))))
      .join(gap)
      .trimEnd();
  const out = rows.map((r) => line(r));
  if (options.header) out.unshift(line(options.header, options.headerStyle));
  return out.join('\n');
}

type TaskState = 'running' | 'waiting' | 'done' | 'skip' | 'warn';
interface TaskLine {
  title: string;
  state: TaskState;
  note?: string;
  /** When it began running or waiting (ms), to show for how long. */
  since?: number;
}

const FALLBACK_ICONS = { done: '✔', skip: '↓', warn: '⚠', unfinished: '◼' };
const SPIN_INTERVAL_MS = 80;

/**
 * The live progress of a TTY: one line per task with its state, redrawn in place.
 * Events arrive synchronously while listr2 (spinner frames, figures) and chalk load
 * in the background, so the board keeps its state first and draws once they are in.
 */
export class TaskBoard {
  private readonly tasks = new Map<string, TaskLine>();
  private drawnLines = 0;
  private paint: Paint = NO_PAINT;
  private spinner: { spin(): void; fetch(): string } | undefined;
  private icons: Record<string, string> = FALLBACK_ICONS;
  private timer: NodeJS.Timeout | undefined;
  private loaded = false;
  private ended = false;

  constructor(
    private readonly stream: NodeJS.WritableStream & { columns?: number },
    private readonly color: boolean,
    private readonly now: () => number = Date.now,
  ) {
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      const [{ Spinner, figures }, paint] = await Promise.all([import('listr2'), loadPaint(this.color)]);
      this.paint = paint;
      this.spinner = new Spinner();
      this.icons = { done: figures.tick, skip: figures.arrowDown, warn: figures.warning, unfinished: figures.squareSmallFilled };
    } catch {
      // Drawing with the fallback frames is still better than no progress at all.
    }
    this.loaded = true;
    if (this.ended) return;
    this.timer = setInterval(() => {
      this.spinner?.spin();
      this.draw();
    }, SPIN_INTERVAL_MS);
    // Never keep the process alive just to animate.
    this.timer.unref();
    this.draw();
  }

  update(event: ProgressEvent): void {
    // The rows say what each waits for; a summary of them would only repeat it.
    if (this.ended || (event.kind === 'waiting' && event.overall)) return;
    const line: TaskLine = this.tasks.get(event.task) ?? { title: event.task, state: 'running' };
    const wasActive = line.since !== undefined && (line.state === 'running' || line.state === 'waiting');
    switch (event.kind) {
      case 'start':
        Object.assign(line, { state: 'running', note: undefined });
        break;
      case 'waiting':
        Object.assign(line, { state: 'waiting', note: event.reason });
        break;
      case 'done':
        Object.assign(line, { state: 'done', note: event.detail });
        break;
      case 'skip':
        Object.assign(line, { state: 'skip', note: event.reason });
        break;
      case 'warn':
        Object.assign(line, { state: 'warn', note: event.message });
        break;
    }
    if (line.state === 'running' || line.state === 'waiting') {
      if (!wasActive) line.since = this.now();
    } else {
      line.since = undefined;
    }
    this.tasks.set(event.task, line);
    this.draw();
  }

  /** Prints a message above the board and redraws the board below it. */
  print(text: string): void {
    if (this.ended) {
      this.stream.write(`${text}\n`);
      return;
    }
    this.erase();
    this.stream.write(`${text}\n`);
    this.draw();
  }

  /** Stops animating and leaves the final state on screen (or removes it with clear). */
  end(options: { clear?: boolean } = {}): void {
    if (this.ended) return;
    this.ended = true;
    if (this.timer) clearInterval(this.timer);
    this.erase();
    // A frozen spinner frame would look alive; unfinished tasks get a plain mark.
    if (!options.clear) this.stream.write(this.renderLines(true).map((l) => `${l}\n`).join(''));
  }

  private erase(): void {
    // Cursor to the start of the first drawn line, then clear to the end of screen.
    if (this.drawnLines > 0) this.stream.write(`\u001b[${this.drawnLines}F\u001b[J`);
    this.drawnLines = 0;
  }

  private draw(): void {
    if (!this.loaded || this.ended || this.tasks.size === 0) return;
    const lines = this.renderLines();
    const moveUp = this.drawnLines > 0 ? `\u001b[${this.drawnLines}F\u001b[J` : '';
    this.stream.write(moveUp + lines.map((l) => `${l}\n`).join(''));
    this.drawnLines = lines.length;
  }

  private renderLines(final = false): string[] {
    // Keep each line inside the terminal width, or wrapping breaks the redraw.
    const width = Math.max(20, (this.stream.columns || 80) - 1);
    return [...this.tasks.values()].map((t) => {
      const oneLine = (text: string) => text.replace(/\s+/g, ' ');
      // A running or waiting row says for how long (kept when the reason is cut short).
      const waited = t.since !== undefined ? `${formatElapsed(this.now() - t.since)}` : undefined;
      const title = truncate(oneLine(t.title), width - 2);
      const room = width - 2 - [...title].length;
      let rest = '';
      if (t.note && waited) {
        const reasonRoom = room - ` (, ${waited})`.length;
        rest = reasonRoom >= 4 ? ` (${truncate(oneLine(t.note), reasonRoom)}, ${waited})` : truncate(` (${waited})`, room);
      } else if (t.note || waited) {
        rest = truncate(` (${t.note ? oneLine(t.note) : waited})`, room);
      }
      return `${this.icon(t.state, final)} ${title}${this.paint.dim(rest)}`;
    });
  }

  private icon(state: TaskState, final: boolean): string {
    const p = this.paint;
    switch (state) {
      case 'running':
      case 'waiting':
        return final ? p.dim(this.icons.unfinished ?? FALLBACK_ICONS.unfinished) : p.accent(this.spinner?.fetch() ?? '…');
      case 'done':
        return p.ok(this.icons.done ?? FALLBACK_ICONS.done);
      case 'skip':
        return p.dim(this.icons.skip ?? FALLBACK_ICONS.skip);
      case 'warn':
        return p.warn(this.icons.warn ?? FALLBACK_ICONS.warn);
    }
  }
}

/** `4s`, `1m05s`: how long a task has been running or waiting. */
export function formatElapsed(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, width - 1).join('')}…`;
}

/** Columns a renderer may use: the terminal's when stdout is one, else 80 (what a terminal has by default). */
export const DEFAULT_WIDTH = 80;
export function terminalWidth(stream: { isTTY?: boolean; columns?: number } = process.stdout): number {
  return stream.isTTY && stream.columns && stream.columns >= 40 ? stream.columns : DEFAULT_WIDTH;
}

/**
 * `label  value` rows, labels aligned; a value that does not fit beside its label goes
 * whole on the next line, indented, so a URL is never split (only a value longer than
 * a whole line can be, and then at the width). Labels stay short enough to sit beside a value.
 */
export function formatPairs(rows: Array<[string, string]>, options: { width?: number; indent?: number } = {}): string {
  const width = options.width ?? DEFAULT_WIDTH;
  const pad = ' '.repeat(options.indent ?? 2);
  const labelWidth = Math.max(0, ...rows.map(([label]) => visibleWidth(label)));
  return rows
    .flatMap(([label, value]) => {
      const beside = `${pad}${label}${' '.repeat(labelWidth - visibleWidth(label))}  ${value}`.trimEnd();
      if (visibleWidth(beside) <= width) return [beside];
      return [`${pad}${label}`, ...hardWrap(`${pad}${value}`, width, pad)];
    })
    .join('\n');
}

/** Breaks only a line with no room at all; continuation lines start with `indent`. */
function hardWrap(line: string, width: number, indent: string): string[] {
  const chars = [...line];
  if (chars.length <= width) return [line];
  const room = Math.max(1, width - indent.length);
  const out = [chars.slice(0, width).join('')];
  for (let i = width; i < chars.length; i += room) out.push(indent + chars.slice(i, i + room).join(''));
  return out;
}

/**
 * A table whose last column wraps at word boundaries to keep every line within
 * `width`; its continuation lines start under the column. When the other columns
 * leave it less than `minLast` columns, the last column goes below its row instead,
 * indented by 4. Cells may be coloured; rows keep their order.
 */
export function formatFittedTable(rows: string[][], options: TableOptions & { width?: number; indent?: number; minLast?: number } = {}): string {
  const width = options.width ?? DEFAULT_WIDTH;
  const pad = ' '.repeat(options.indent ?? 2);
  const gap = ' '.repeat(options.gap ?? 2);
  const all = options.header ? [options.header, ...rows] : rows;
  const columns = Math.max(0, ...all.map((r) => r.length));
  const fixed = Array.from({ length: columns - 1 }, (_, c) => Math.max(0, ...all.map((r) => visibleWidth(r[c] ?? ''))));
  const lastStart = pad.length + fixed.reduce((sum, w) => sum + w + gap.length, 0);
  const below = width - lastStart < (options.minLast ?? 20);
  const render = (row: string[], style: (t: string) => string = identity): string[] => {
    const head = row.slice(0, columns - 1).map((cell, c) => style(cell) + ' '.repeat(fixed[c]! - visibleWidth(cell)));
    const last = row[columns - 1] ?? '';
    if (below) {
      const first = `${pad}${head.join(gap)}${row === options.header ? gap + style(last) : ''}`.trimEnd();
      if (row === options.header || last === '') return [first];
      return [first, ...wrapWords(last, width - pad.length - 4).map((l) => `${pad}    ${l}`)];
    }
    const lines = wrapWords(last, width - lastStart);
    const start = `${pad}${[...head, style(lines[0] ?? '')].join(gap)}`.trimEnd();
    return [start, ...lines.slice(1).map((l) => `${' '.repeat(lastStart)}${l}`)];
  };
  const out = rows.flatMap((r) => render(r));
  if (options.header) out.unshift(...render(options.header, options.headerStyle));
  return out.join('\n');
}

/** Words of `text` in lines of at most `width` columns; a word longer than that alone on its line, broken at the width. */
export function wrapWords(text: string, width: number): string[] {
  const room = Math.max(1, width);
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(/ +/).filter((w) => w !== '')) {
    const candidate = current === '' ? word : `${current} ${word}`;
    if (visibleWidth(candidate) <= room) {
      current = candidate;
      continue;
    }
    if (current !== '') lines.push(current);
    current = word;
    while (visibleWidth(current) > room) {
      const chars = [...current];
      lines.push(chars.slice(0, room).join(''));
      current = chars.slice(room).join('');
    }
  }
  if (current !== '' || lines.length === 0) lines.push(current);
  return lines;
}
