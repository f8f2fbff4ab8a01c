/**
 * `ecom restart <service…>`: the loop by hand (docs/architecture.md, "The loop") —
 * rebuild what changed, restart the named services, wait until each answers /health.
 */
import { EcomError, ExitCode, UsageError } from '../../core/errors.js';
import type { ServiceName } from '../../core/system.js';
import { detectRuntime, type RuntimeChoice } from '../../runtime/detect.js';
import { formatBuildFailure, formatRestart } from '../../watch/report.js';
import { createOutput, type Output } from '../output.js';

export interface RestartCommandOptions {
  cwd: string;
  verbose?: boolean;
  json?: boolean;
  runtime?: string;
  services: ServiceName[];
  /** Milliseconds each service may take to answer /health. */
  timeout: number;
}

export async function runRestart(options: RestartCommandOptions, deps: { choice?: RuntimeChoice; output?: Output } = {}): Promise<number> {
  const out = deps.output ?? createOutput({ json: options.json ?? false });
  const services = [...new Set(options.services)];
  if (services.length === 0) throw new UsageError('name the services to restart', 'e.g. `ecom restart order` or `ecom restart catalog search`');
  const choice = deps.choice ?? (await detectRuntime({ cwd: options.cwd, name: options.runtime }));
  const runtime = choice.runtime;
  if (!runtime.reloader) throw new UsageError(`the ${choice.name} runtime cannot restart services`, 'use --runtime local, kind or context');
  if (!(await runtime.endpoints())) throw new EcomError('nothing is running to restart', 'start the system with `ecom up`');
  const reloader = await runtime.reloader();
  try {
    const build = await reloader.build();
    if (!build.ok) {
      out.warn(formatBuildFailure(build.elapsedMs, build.error));
      throw new EcomError('the build failed, so nothing was restarted', 'fix the error shown above and run `ecom restart` again', ExitCode.failed);
    }
    const outcomes = await reloader.restart(services, { timeoutMs: options.timeout, progress: (event) => out.progress(event) });
    out.endProgress();
    const lines = outcomes.map((o) => formatRestart(o, build.changed.includes(o.service) ? build.elapsedMs : undefined));
    const others = build.changed.filter((s) => !services.includes(s));
    if (others.length > 0) out.info(`changed too, not restarted: ${others.join(', ')} (\`ecom restart ${others.join(' ')}\` or \`ecom dev\` picks them up)`);
    out.result(lines.join('\n'), { runtime: choice.name, rebuilt: build.changed, buildMs: build.elapsedMs, services: outcomes });
    return outcomes.every((o) => o.ok) ? ExitCode.ok : ExitCode.failed;
  } finally {
    await reloader.close();
  }
}
