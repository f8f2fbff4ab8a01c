/**
 * Text that the CLI and the smoke report both write: the Paint a renderer passes in
 * (colour functions, or none) and durations as people read them. The CLI loads the
 * colours (src/cli/render.ts); layers below it only receive a Paint.
 */

export interface Paint {
  ok(text: string): string;
  fail(text: string): string;
  warn(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
  accent(text: string): string;
  /** The n-th of a few distinct colours that mean nothing else (service names in merged logs). */
  nth(index: number, text: string): string;
}

const identity = (text: string) => text;
export const NO_PAINT: Paint = {
  ok: identity,
  fail: identity,
  warn: identity,
  dim: identity,
  bold: identity,
  accent: identity,
  nth: (_index, text) => text,
};

/** `850 ms`, `3.2 s`, `2 m 5 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} m ${Math.round((ms % 60_000) / 1_000)} s`;
}
