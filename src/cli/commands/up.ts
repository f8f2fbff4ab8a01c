/** `ecom up`: choose the runtime, record the choice, bring the system up, print where it answers. */
import { EcomError, UsageError } from '../../core/errors.js';
import { SERVICE_NAMES, type Endpoints } from '../../core/system.js';
import { detectRuntime, readRecordedRuntime, recordRuntimeChoice, type RuntimeChoice } from '../../runtime/detect.js';
import type { MeshMode, RuntimeName } from '../../runtime/types.js';
import { createOutput, type Output } from '../output.js';

export interface UpCommandOptions {
  cwd: string;
  verbose?: boolean;
  json?: boolean;
  /** Milliseconds. */
  timeout: number;
  /** Undefined when not given: a running system keeps its ports, otherwise 0. */
  portOffset?: number;
  /** Local runtime only. */
  amqpUrl?: string;
  /** Local runtime only: the services' LOG_LEVEL. */
  logLevel?: string;
  runtime?: string;
  /** Print the plan of a cluster runtime and run nothing. */
  dryRun?: boolean;
  /** kind, context: sidecar (default), ambient or none. */
  mesh?: MeshMode;
  /** context: the kubeconfig context (implies --runtime context when no runtime is named). */
  context?: string;
  /** context: where images are pushed (implies --runtime context when no runtime is named). */
  registry?: string;
  /** context: change a cluster that is not local without asking. */
  yes?: boolean;
  /** After up, rebuild and restart services as their sources change, until interrupted (`ecom dev`). */
  watch?: boolean;
}

export interface UpDeps {
  choice?: RuntimeChoice;
  output?: Output;
}

export async function runUp(options: UpCommandOptions, deps: UpDeps = {}): Promise<number> {
  const started = performance.now();
  const out = deps.output ?? createOutput({ json: options.json ?? false });
  const contextAsked = options.context !== undefined || options.registry !== undefined || options.yes === true;
  const detect = (name: string | undefined) =>
    detectRuntime({
      cwd: options.cwd,
      name,
      amqpUrl: options.amqpUrl,
      clusterSettings: { clusterMesh: options.mesh, contextName: options.context, contextRegistry: options.registry, contextAssumeYes: options.yes },
    });
  let choice = deps.choice ?? (await detect(options.runtime ?? (contextAsked ? 'context' : undefined)));
  if (!deps.choice && options.runtime === undefined && contextAsked && choice.source === 'explicit') {
    choice = { ...choice, reason: '--context, --registry or --yes name the context runtime' };
  }
  if (options.dryRun && choice.name === 'local' && choice.source === 'detected') {
    // The plan needs no Docker: without one, show what kind would do rather than nothing.
    choice = { ...(await detect('kind')), source: 'detected', reason: `${choice.reason}; --dry-run shows the kind runtime's plan` };
  }
  checkRuntimeFlags(options, choice.name);
  const watch = options.watch ? await import('./dev.js') : undefined;
  watch?.checkWatchFlags(options, choice.runtime);
  out.info(`runtime: ${choice.name} (${choice.reason}); state in ${choice.stateDir}`);
  if (options.dryRun) return printPlan(choice, options, out);
  const previous = previousRuntime(choice.stateDir, (message) => out.warn(message));
  if (previous && previous !== choice.name) {
    out.warn(`an earlier \`ecom up\` here used the ${previous} runtime; what it started may still run (\`ecom down --runtime ${previous}\` stops it)`);
  }
  // Before anything starts, so that status, logs, smoke and down find this runtime even after a failed up.
  recordRuntimeChoice(choice);
  const result = await choice.runtime
    .up({ timeoutMs: options.timeout, portOffset: options.portOffset, logLevel: options.logLevel, progress: (event) => out.progress(event) })
    .finally(() => out.endProgress());
  const elapsedMs = Math.round(performance.now() - started);
  for (const warning of result.warnings) out.warn(warning);
  for (const note of result.notes ?? []) out.info(note);
  const headline = result.alreadyUp
    ? 'already up: every service is healthy, nothing changed'
    : `up in ${(elapsedMs / 1000).toFixed(1)} s: every service is healthy`;
  out.result(`${headline}\n${formatEndpoints(result.endpoints)}\n${ENV_POINTER}`, {
    runtime: choice.name,
    reason: choice.reason,
    stateDir: choice.stateDir,
    alreadyUp: result.alreadyUp,
    elapsedMs,
    endpoints: result.endpoints,
    warnings: result.warnings,
    notes: result.notes ?? [],
  });
  return watch ? watch.runWatch(choice.runtime, out, options.cwd) : 0;
}

/** Under the URLs: where the passwords are. */
export const ENV_POINTER = 'connection URLs and logins (DATABASE_URL, AMQP_URL, RabbitMQ): ecom env';

/** A flag that the chosen runtime does not understand is a usage error, not silently ignored. */
function checkRuntimeFlags(options: UpCommandOptions, runtime: RuntimeName): void {
  const misplaced = (flag: string, runtimes: string) =>
    new UsageError(`${flag} applies to the ${runtimes} runtime${runtimes.includes(' ') ? 's' : ''} only, not ${runtime}`, `drop ${flag}, or add --runtime ${runtimes.split(' ')[0]}`);
  if (options.amqpUrl && runtime !== 'local') throw misplaced('--amqp-url', 'local');
  if (options.logLevel && runtime !== 'local') throw misplaced('--log-level', 'local');
  if (options.mesh && runtime === 'local') throw misplaced('--mesh', 'kind and context');
  if (runtime !== 'context') {
    for (const [flag, given] of [['--context', options.context], ['--registry', options.registry], ['--yes', options.yes]] as const) {
      if (given !== undefined && given !== false) throw misplaced(flag, 'context');
    }
  }
}

/** `--dry-run`: the plan from the same step list `up` runs; nothing is run or recorded. */
async function printPlan(choice: RuntimeChoice, options: UpCommandOptions, out: Output): Promise<number> {
  if (!choice.runtime.plan) {
    throw new UsageError(`--dry-run shows the plan of the kind and context runtimes; the ${choice.name} runtime has none`, 'add --runtime kind (or --runtime context)');
  }
  const plan = await choice.runtime.plan({ portOffset: options.portOffset });
  const { formatPlan } = await import('../plan-output.js');
  out.result(formatPlan(plan), { runtime: choice.name, reason: choice.reason, stateDir: choice.stateDir, dryRun: true, plan });
  return 0;
}

/**
 * The URLs, one per part: the frontend is the storefront (one line, not two), the
 * RabbitMQ row says where its login is (`ecom env`).
 */
export function formatEndpoints(endpoints: Endpoints): string {
  const rows: Array<[string, string]> = SERVICE_NAMES.map((s) => [s, s === 'frontend' ? `${endpoints.services.frontend}/ (storefront)` : endpoints.services[s]]);
  if (endpoints.prometheus) rows.push(['prometheus', endpoints.prometheus]);
  if (endpoints.grafana) rows.push(['grafana', `${endpoints.grafana} (login: ecom env)`]);
  if (endpoints.brokerManagement) rows.push(['rabbitmq', `${endpoints.brokerManagement} (login: ecom env)`]);
  if (endpoints.console) rows.push(['console', `${endpoints.console} (ecom open console)`]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}

/** The runtime recorded before this `up`; a damaged record is said and then rewritten (the runtime was named). */
function previousRuntime(stateDir: string, warn: (message: string) => void): RuntimeName | undefined {
  try {
    return readRecordedRuntime(stateDir);
  } catch (err) {
    if (!(err instanceof EcomError)) throw err;
    warn(`${err.message}; writing it anew`);
    return undefined;
  }
}
