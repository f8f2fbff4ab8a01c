/**
 * The watch loop with a recording Reloader and a watcher the test fires: what it
 * builds and restarts for a change, what it says, and that it keeps going after a
 * failed build, a service that does not come back, and a reloader that throws.
 */
import { describe, expect, it } from 'vitest';
import type { ServiceName } from '../../../src/core/system.js';
import type { BuildOutcome, Reloader, RestartOutcome } from '../../../src/runtime/types.js';
import { runWatchLoop } from '../../../src/watch/loop.js';
import { formatRestart } from '../../../src/watch/report.js';
import { eventually } from '../../helpers/services.js';

class RecordingReloader implements Reloader {
  readonly watchPaths = ['/p/src/services'];
  readonly builds: Array<readonly string[] | undefined> = [];
  readonly restarts: ServiceName[][] = [];
  closed = false;
  constructor(
    readonly nextBuild: (files: readonly string[] | undefined) => BuildOutcome | Error,
    readonly outcome: (service: ServiceName) => RestartOutcome = (service) => ({ service, ok: true, restartMs: 200, healthyMs: 900, detail: 'pid 7' }),
  ) {}
  async build(files?: readonly string[]): Promise<BuildOutcome> {
    this.builds.push(files);
    const next = this.nextBuild(files);
    if (next instanceof Error) throw next;
    return next;
  }
  async restart(services: readonly ServiceName[]): Promise<RestartOutcome[]> {
    this.restarts.push([...services]);
    return services.map(this.outcome);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Runs the loop with a fake watcher; returns how to fire changes and what was said. */
async function startLoop(reloader: Reloader) {
  const lines: string[] = [];
  const abort = new AbortController();
  let fire: (file: string) => void = () => {};
  let watching: string[] = [];
  let watcherClosed = false;
  const done = runWatchLoop({
    reloader,
    out: { info: (m) => lines.push(m), warn: (m) => lines.push(`warning: ${m}`) },
    signal: abort.signal,
    debounceMs: 5,
    describePath: (f) => f.replace('/p/', ''),
    watch: async (paths, onChange) => {
      watching = paths;
      fire = onChange;
      return { close: async () => void (watcherClosed = true) };
    },
  });
  await eventually(() => (lines.some((l) => l.startsWith('watching')) ? true : undefined), 5_000, 'the loop to watch');
  return { lines, fire: (f: string) => fire(f), watching: () => watching, stop: async () => (abort.abort(), await done), watcherClosed: () => watcherClosed };
}

const ok = (changed: ServiceName[], elapsedMs = 420): BuildOutcome => ({ ok: true, changed, elapsedMs });

describe('the watch loop', () => {
  it('builds once at the start (sources edited before the watch), then once per change, restarting what the build says changed', async () => {
    const reloader = new RecordingReloader((files) => (files ? ok(['order']) : ok([])));
    const loop = await startLoop(reloader);
    expect(loop.watching()).toEqual(['/p/src/services']);
    expect(loop.lines).toEqual(['watching src/services: a change rebuilds and restarts the services it affects (Ctrl-C ends the watch; the system keeps running)']);

    loop.fire('/p/src/services/order/app.ts');
    await eventually(() => (reloader.restarts.length === 1 ? true : undefined), 5_000, 'a restart');
    expect(reloader.builds).toEqual([undefined, ['/p/src/services/order/app.ts']]);
    expect(reloader.restarts).toEqual([['order']]);
    expect(loop.lines.at(-1)).toBe('order: rebuilt in 0.4 s, restarted, healthy in 0.9 s (pid 7)');
    await loop.stop();
    expect(loop.watcherClosed()).toBe(true);
  });

  it('builds a burst of saves once', async () => {
    const reloader = new RecordingReloader((files) => (files ? ok(['catalog', 'search', 'order', 'frontend']) : ok([])));
    const loop = await startLoop(reloader);
    loop.fire('/p/src/services/common/a.ts');
    loop.fire('/p/src/services/common/b.ts');
    loop.fire('/p/src/services/common/a.ts');
    await eventually(() => (reloader.restarts.length === 1 ? true : undefined), 5_000, 'a restart');
    expect(reloader.builds).toEqual([undefined, ['/p/src/services/common/a.ts', '/p/src/services/common/b.ts']]);
    expect(loop.lines.slice(-4).map((l) => l.split(':')[0])).toEqual(['catalog', 'search', 'order', 'frontend']);
    await loop.stop();
  });

  it('reports a failed build with the compiler message, restarts nothing, and goes on with the next change', async () => {
    let broken = true;
    const reloader = new RecordingReloader((files) => (!files ? ok([]) : broken ? { ok: false, error: 'src/services/order/app.ts:3:9: ERROR: Unexpected ";"', elapsedMs: 80 } : ok(['order'])));
    const loop = await startLoop(reloader);
    loop.fire('/p/src/services/order/app.ts');
    await eventually(() => (loop.lines.some((l) => l.includes('build failed')) ? true : undefined), 5_000, 'the failure');
    expect(loop.lines.at(-1)).toBe('warning: build failed in 0.1 s; the services keep running what they ran:\n    src/services/order/app.ts:3:9: ERROR: Unexpected ";"');
    expect(reloader.restarts).toEqual([]);

    broken = false;
    loop.fire('/p/src/services/order/app.ts');
    await eventually(() => (reloader.restarts.length === 1 ? true : undefined), 5_000, 'the restart after the fix');
    expect(loop.lines.at(-1)).toMatch(/^order: rebuilt in 0\.4 s, restarted, healthy/);
    await loop.stop();
  });

  it('says when a change altered no build, and restarts nothing', async () => {
    const reloader = new RecordingReloader(() => ok([], 60));
    const loop = await startLoop(reloader);
    loop.fire('/p/src/services/order/README.md');
    await eventually(() => (reloader.builds.length === 2 ? true : undefined), 5_000, 'the build');
    await eventually(() => (loop.lines.length === 2 ? true : undefined), 5_000, 'the line');
    expect(loop.lines.at(-1)).toBe("src/services/order/README.md changed: no service's build changed (checked in 0.1 s); nothing restarted");
    expect(reloader.restarts).toEqual([]);
    await loop.stop();
  });

  it('reports a service that does not come back, and one that the reloader cannot reach, and keeps watching', async () => {
    let fail: 'crash' | 'throw' = 'crash';
    const reloader = new RecordingReloader(
      (files) => (!files ? ok([]) : fail === 'throw' ? new Error('the supervisor did not answer') : ok(['order'])),
      (service) => ({ service, ok: false, restartMs: 300, detail: 'pid 9', error: 'exited (code 1) after its restart; its last log lines:\n    boom' }),
    );
    const loop = await startLoop(reloader);
    loop.fire('/p/src/services/order/app.ts');
    await eventually(() => (reloader.restarts.length === 1 ? true : undefined), 5_000, 'the restart');
    await eventually(() => (loop.lines.length === 2 ? true : undefined), 5_000, 'the line');
    expect(loop.lines.at(-1)).toBe('warning: order: rebuilt in 0.4 s, restarted (pid 9), not healthy: exited (code 1) after its restart; its last log lines:\n    boom');

    fail = 'throw';
    loop.fire('/p/src/services/order/app.ts');
    await eventually(() => (loop.lines.length === 3 ? true : undefined), 5_000, 'the next line');
    expect(loop.lines.at(-1)).toBe('warning: reload failed: the supervisor did not answer; still watching');
    await loop.stop();
  });

  it('keeps reloading after a change that a running reload picked up before its own timer fired', async () => {
    // A's build waits; B arrives and A is released at once, so the running reload takes
    // B too and is done before B's debounce fires with nothing left to do. C must still count.
    let releaseA: (() => void) | undefined;
    const reloader = new (class extends RecordingReloader {
      override async build(files?: readonly string[]): Promise<BuildOutcome> {
        if (files?.includes('/p/src/services/order/a.ts')) await new Promise<void>((resolve) => (releaseA = resolve));
        return super.build(files);
      }
    })((files) => (files ? ok(['order']) : ok([])));
    const loop = await startLoop(reloader);
    loop.fire('/p/src/services/order/a.ts');
    await eventually(() => (releaseA ? true : undefined), 5_000, "A's build to start");
    loop.fire('/p/src/services/order/b.ts');
    releaseA!();
    await eventually(() => (reloader.builds.some((b) => b?.includes('/p/src/services/order/b.ts')) ? true : undefined), 5_000, "B's build");
    await new Promise((r) => setTimeout(r, 30));
    loop.fire('/p/src/services/order/c.ts');
    await eventually(() => (reloader.builds.some((b) => b?.includes('/p/src/services/order/c.ts')) ? true : undefined), 2_000, "C's build");
    await loop.stop();
  });

  it('words a restart of an unchanged build', () => {
    expect(formatRestart({ service: 'search', ok: true, restartMs: 100, healthyMs: 1_250 }, undefined)).toBe('search: build unchanged, restarted, healthy in 1.3 s');
  });
});
