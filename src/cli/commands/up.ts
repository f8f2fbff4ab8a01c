/** `ecom up`: choose the runtime, bring the system up, print where it answers. */
import { detectRuntime, type RuntimeChoice } from '../../runtime/detect.js';
import { servicePorts } from '../../runtime/local/ports.js';
import { SERVICE_NAMES, type Endpoints, type ServiceName } from '../../core/system.js';
import type { Runtime } from '../../runtime/types.js';
import { createOutput, type Output } from '../output.js';

export interface UpCommandOptions {
  cwd: string;
  verbose?: boolean;
  json?: boolean;
  /** Milliseconds. */
  timeout: number;
  /** Undefined when not given: a running system keeps its ports, otherwise 0. */
  portOffset?: number;
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
  const choice = deps.choice ?? (await detectRuntime({ cwd: options.cwd, name: options.runtime }));
  out.info(`runtime: ${choice.runtime.name} (${choice.reason}); state in ${choice.stateDir}`);
  const result = await choice.runtime
    .up({
      cwd: options.cwd,
      timeoutMs: options.timeout,
      ports: await plannedPorts(choice.runtime, options.portOffset),
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

/**
 * The service ports to ask for: from an explicit offset; without one, the ports of the
 * system already running (so a bare `ecom up` finds it up), else the defaults. Only an
 * explicitly different offset is refused by the runtime.
 */
export async function plannedPorts(runtime: Runtime, portOffset: number | undefined): Promise<Record<ServiceName, number>> {
  if (portOffset !== undefined) return servicePorts(portOffset);
  const running = await runtime.endpoints();
  if (!running) return servicePorts(0);
  const ports = SERVICE_NAMES.map((s) => Number(new URL(running.services[s]).port));
  if (ports.some((p) => !Number.isInteger(p) || p <= 0)) return servicePorts(0);
  return Object.fromEntries(SERVICE_NAMES.map((s, i) => [s, ports[i]])) as Record<ServiceName, number>;
}

export function formatEndpoints(endpoints: Endpoints): string {
  const rows: Array<[string, string]> = [['storefront', `${endpoints.services.frontend}/`]];
  for (const s of SERVICE_NAMES) rows.push([s, endpoints.services[s]]);
  if (endpoints.prometheus) rows.push(['prometheus', endpoints.prometheus]);
  if (endpoints.brokerManagement) rows.push(['rabbitmq', `${endpoints.brokerManagement} (management)`]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}
