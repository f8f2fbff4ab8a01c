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
    if (this.ended) return;
    const line = this.tasks.get(event.task) ?? { title: event.task, state: 'running' };
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
      const note = t.note ? ` (${oneLine(t.note)})` : '';
      const plain = truncate(`${oneLine(t.title)}${note}`, width - 2);
      const title = plain.slice(0, Math.min(plain.length, oneLine(t.title).length));
      const rest = plain.slice(title.length);
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

function truncate(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, width - 1).join('')}…`;
}
