/**
 * The lines the loop prints (docs/architecture.md, "The loop"): one per restarted
 * service, saying what was done and how long each part took, in seconds as a person
 * reads them: `order: rebuilt in 0.4 s, restarted, healthy in 0.9 s`.
 */
import type { RestartOutcome } from '../runtime/types.js';

export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** `buildMs` undefined: nothing was rebuilt for it (`ecom restart` of an unchanged service). */
export function formatRestart(outcome: RestartOutcome, buildMs: number | undefined): string {
  const built = buildMs === undefined ? 'build unchanged' : `rebuilt in ${seconds(buildMs)}`;
  if (outcome.ok) return `${outcome.service}: ${built}, restarted, healthy in ${seconds(outcome.healthyMs ?? outcome.restartMs)}${outcome.detail ? ` (${outcome.detail})` : ''}`;
  const restarted = outcome.detail ? `restarted (${outcome.detail}), ` : '';
  return `${outcome.service}: ${built}, ${restarted}not healthy: ${outcome.error ?? 'unknown error'}`;
}

export function formatBuildFailure(elapsedMs: number, error: string): string {
  const indented = error
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
  return `build failed in ${seconds(elapsedMs)}; the services keep running what they ran:\n${indented}`;
}

export function formatUnchanged(what: string, elapsedMs: number): string {
  return `${what} changed: no service's build changed (checked in ${seconds(elapsedMs)}); nothing restarted`;
}
