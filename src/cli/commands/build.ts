/**
 * `ecom build [service…] [--registry R] [--push] [--json]`: the service images, tagged
 * with the hash of their inputs, built only when that tag does not exist yet.
 */
import { SERVICE_NAMES, type ServiceName } from '../../core/system.js';
import type { ImageResult } from '../../images/build.js';
import { createOutput, type Output } from '../output.js';
import { formatTable } from '../render.js';

export interface BuildCommandOptions {
  cwd: string;
  verbose?: boolean;
  json?: boolean;
  services?: ServiceName[];
  registry?: string;
  push?: boolean;
}

export interface BuildCommandDeps {
  output?: Output;
  env?: NodeJS.ProcessEnv;
  extraDockerClients?: string[];
  fetch?: typeof fetch;
}

/** `230 MB`: decimal units, as `docker images` shows them. */
export function formatSize(bytes: number | undefined): string {
  if (bytes === undefined) return '-';
  const units = ['B', 'kB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 100 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

function describe(image: ImageResult): string {
  return image.action === 'skipped' ? `skipped (${image.reason})` : image.action;
}

export async function runBuild(options: BuildCommandOptions, deps: BuildCommandDeps = {}): Promise<number> {
  const out = deps.output ?? createOutput({ json: options.json ?? false });
  const { buildImages } = await import('../../images/build.js');
  const { ToolRunner } = await import('../../tools/tool-runner.js');
  const services = options.services && options.services.length > 0 ? [...new Set(options.services)] : [...SERVICE_NAMES];
  const result = await buildImages({
    root: options.cwd,
    services,
    registry: options.registry,
    push: options.push ?? false,
    tools: new ToolRunner({ env: deps.env ?? process.env }),
    progress: (event) => out.progress(event),
    extraDockerClients: deps.extraDockerClients,
    fetch: deps.fetch,
  }).finally(() => out.endProgress());

  const rows = result.images.map((image) => [image.service, image.reference, formatSize(image.sizeBytes), describe(image)]);
  const human = formatTable(rows, { header: ['SERVICE', 'IMAGE', 'SIZE', 'RESULT'] });
  out.result(human, {
    ok: true,
    docker: { client: result.client.path, clientVersion: result.client.clientVersion, engineVersion: result.engineVersion },
    images: result.images,
  });
  return 0;
}
