/** `ecom down`: stop exactly what `up` started; `--purge` also deletes the data and forgets the runtime choice. */
import { detectRuntime, forgetRuntimeChoice, type RuntimeChoice } from '../../runtime/detect.js';
import { createOutput } from '../output.js';

export interface DownCommandOptions {
  cwd: string;
  verbose?: boolean;
  json?: boolean;
  purge?: boolean;
  runtime?: string;
}

export async function runDown(options: DownCommandOptions, deps: { choice?: RuntimeChoice } = {}): Promise<number> {
  const out = createOutput({ json: options.json ?? false });
  const choice = deps.choice ?? (await detectRuntime({ cwd: options.cwd, name: options.runtime }));
  const purge = options.purge ?? false;
  const result = await choice.runtime.down({ purge, progress: (event) => out.progress(event) }).finally(() => out.endProgress());
  if (result.purged) forgetRuntimeChoice(choice.stateDir);
  const lines = [result.stopped.length > 0 ? `stopped: ${result.stopped.join(', ')}` : 'nothing to stop'];
  if (result.purged) lines.push('purged: database, broker data, logs and state removed');
  out.result(lines.join('\n'), { runtime: choice.name, ...result, nothingToStop: result.stopped.length === 0 });
  return 0;
}
