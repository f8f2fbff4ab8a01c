/** `ecom up`: choose the runtime, record the choice, bring the system up, print where it answers. */
import { UsageError } from '../../core/errors.js';
import { SERVICE_NAMES, type Endpoints } from '../../core/system.js';
import { detectRuntime, readRecordedRuntime, recordRuntimeChoice, type RuntimeChoice } from '../../runtime/detect.js';
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
  runtime?: string;
}

export interface UpDeps {
  choice?: RuntimeChoice;
  output?: Output;
}

export async function runUp(options: UpCommandOptions, deps: UpDeps = {}): Promise<number> {
  const started = performance.now();
  const out = deps.output ?? createOutput({ json: options.json ?? false });
  const choice = deps.choice ?? (await detectRuntime({ cwd: options.cwd, name: options.runtime, amqpUrl: options.amqpUrl }));
  if (options.amqpUrl && choice.name !== 'local') {
    throw new UsageError(`--amqp-url applies to the local runtime only, not ${choice.name}`, 'drop --amqp-url, or add --runtime local');
  }
  out.info(`runtime: ${choice.name} (${choice.reason}); state in ${choice.stateDir}`);
  const previous = readRecordedRuntime(choice.stateDir);
  if (previous && previous !== choice.name) {
    out.warn(`an earlier \`ecom up\` here used the ${previous} runtime; what it started may still run (\`ecom down --runtime ${previous}\` stops it)`);
  }
  // Before anything starts, so that status, logs, smoke and down find this runtime even after a failed up.
  recordRuntimeChoice(choice);
  const result = await choice.runtime
    .up({ timeoutMs: options.timeout, portOffset: options.portOffset, progress: (event) => out.progress(event) })
    .finally(() => out.endProgress());
  const elapsedMs = Math.round(performance.now() - started);
  for (const warning of result.warnings) out.warn(warning);
  const headline = result.alreadyUp
    ? 'already up: every service is healthy, nothing changed'
    : `up in ${(elapsedMs / 1000).toFixed(1)} s: every service is healthy`;
  out.result(`${headline}\n${formatEndpoints(result.endpoints)}`, {
    runtime: choice.name,
    reason: choice.reason,
    stateDir: choice.stateDir,
    alreadyUp: result.alreadyUp,
    elapsedMs,
    endpoints: result.endpoints,
    warnings: result.warnings,
  });
  return 0;
}

export function formatEndpoints(endpoints: Endpoints): string {
  const rows: Array<[string, string]> = [['storefront', `${endpoints.services.frontend}/`]];
  for (const s of SERVICE_NAMES) rows.push([s, endpoints.services[s]]);
  if (endpoints.prometheus) rows.push(['prometheus', endpoints.prometheus]);
  if (endpoints.brokerManagement) rows.push(['rabbitmq', `${endpoints.brokerManagement} (management)`]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}
