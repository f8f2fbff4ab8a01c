/** `ecom up`: choose the runtime, bring the system up, print where it answers. */
import { detectRuntime } from '../../runtime/detect.js';
import { servicePorts } from '../../runtime/local/ports.js';
import { SERVICE_NAMES, type Endpoints } from '../../runtime/types.js';
import { createOutput } from '../output.js';

export interface UpCommandOptions {
  cwd: string;
  verbose?: boolean;
  json?: boolean;
  /** Milliseconds. */
  timeout: number;
  portOffset: number;
  amqpUrl?: string;
  runtime?: string;
}

export async function runUp(options: UpCommandOptions): Promise<number> {
  const started = performance.now();
  const out = createOutput({ json: options.json ?? false });
  const choice = await detectRuntime({ cwd: options.cwd, name: options.runtime });
  out.info(`runtime: ${choice.runtime.name} (${choice.reason}); state in ${choice.stateDir}`);
  const result = await choice.runtime
    .up({
      cwd: options.cwd,
      timeoutMs: options.timeout,
      ports: servicePorts(options.portOffset),
      amqpUrl: options.amqpUrl,
      progress: (event) => out.progress(event),
    })
    .finally(() => out.endProgress());
  const elapsedMs = Math.round(performance.now() - started);
  for (const warning of result.warnings) out.warn(warning);
  const headline = result.alreadyUp
    ? 'already up: every service is healthy, nothing changed'
    : `up in ${(elapsedMs / 1000).toFixed(1)} s: every service is healthy`;
  out.result(`${headline}\n${formatEndpoints(result.endpoints)}`, {
    runtime: choice.runtime.name,
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
