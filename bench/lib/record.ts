/**
 * The one way a benchmark reports a figure: `record()` prints it beside its reference
 * and keeps it for bench/results.json and BENCHMARKS.md (written by bench/run.ts at the
 * end of the run). Every figure has a reference measured in the same run on the same
 * machine; the ratio is what to read, the raw figures depend on the machine.
 *
 *   record({
 *     name: 'GET /catalog', figure: 5100, unit: 'req/s',
 *     reference: 5200, referenceName: 'minimal Express 5 handler, same bytes',
 *     goal: { atLeast: 1.0 },             // on the ratio; { of: 'figure', atMost: 50 } for an absolute goal
 *   });
 */

/** A bound on the ratio (default), the figure itself, or its change (figure - reference); both ends inclusive. */
export interface Goal {
  of?: 'ratio' | 'figure' | 'change';
  atLeast?: number;
  atMost?: number;
}

export interface FigureInput {
  /** What was measured, e.g. 'GET /catalog' or 'order accepted → consumed p99'. */
  name: string;
  figure: number;
  /** 'req/s', 'ms', 'MB', 'fds', … */
  unit: string;
  /** The same quantity for the reference, measured in the same run. */
  reference: number;
  /** What the reference is, e.g. 'node -e 0'. */
  referenceName: string;
  /** Defaults to figure / reference. */
  ratio?: number;
  goal?: Goal;
  /** Defaults to whether the goal is met; `null` when there is no goal. */
  ok?: boolean | null;
  /** One line of detail for BENCHMARKS.md (rounds, sizes, rates). */
  note?: string;
}

export interface RecordedFigure extends Required<Omit<FigureInput, 'goal' | 'note' | 'ok'>> {
  bench: string;
  goal: Goal | null;
  ok: boolean | null;
  note: string | null;
}

const figures: RecordedFigure[] = [];
let currentBench = 'unnamed';

/** Called by bench/run.ts before each benchmark: its figures are filed under `name`. */
export function beginBench(name: string): void {
  currentBench = name;
}

/** Every figure recorded so far in this process, in order. */
export function recordedFigures(): readonly RecordedFigure[] {
  return figures;
}

export function goalMet(goal: Goal | undefined | null, figure: number, reference: number, ratio: number): boolean | null {
  if (!goal) return null;
  const value = goal.of === 'figure' ? figure : goal.of === 'change' ? figure - reference : ratio;
  if (!Number.isFinite(value)) return false;
  if (goal.atLeast !== undefined && value < goal.atLeast) return false;
  if (goal.atMost !== undefined && value > goal.atMost) return false;
  return true;
}

export function describeGoal(goal: Goal | null, unit: string): string {
  if (!goal) return '';
  const what = goal.of === 'figure' ? '' : goal.of === 'change' ? 'change ' : 'ratio ';
  const suffix = goal.of === 'ratio' || goal.of === undefined ? '' : ` ${unit}`;
  const parts: string[] = [];
  if (goal.atLeast !== undefined) parts.push(`${what}≥ ${goal.atLeast}${suffix}`);
  if (goal.atMost !== undefined) parts.push(`${what}≤ ${goal.atMost}${suffix}`);
  return parts.join(', ');
}

/** Keeps the figure for the results and prints one line; returns whether its goal is met (true without a goal). */
export function record(input: FigureInput): boolean {
  const ratio = input.ratio ?? input.figure / input.reference;
  const ok = input.ok !== undefined ? input.ok : goalMet(input.goal, input.figure, input.reference, ratio);
  const entry: RecordedFigure = {
    bench: currentBench,
    name: input.name,
    figure: input.figure,
    unit: input.unit,
    reference: input.reference,
    referenceName: input.referenceName,
    ratio,
    goal: input.goal ?? null,
    ok,
    note: input.note ?? null,
  };
  figures.push(entry);
  const verdict = ok === null ? '' : ok ? ' OK' : ' MISSED';
  const goal = entry.goal ? ` (goal ${describeGoal(entry.goal, entry.unit)})` : '';
  process.stdout.write(
    `${entry.name.padEnd(36)} ${formatNumber(entry.figure).padStart(9)} ${entry.unit}  ` +
      `${entry.referenceName} ${formatNumber(entry.reference)} ${entry.unit}  ratio ${ratio.toFixed(2)}${goal}${verdict}\n`,
  );
  return ok !== false;
}

/** Three significant digits at most below 100, whole numbers with separators above. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}
