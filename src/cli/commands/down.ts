/** `ecom down`: stop exactly what `up` started; `--purge` also deletes the data. */
import { resolveRuntime } from '../../runtime/detect.js';
import { createOutput } from '../output.js';

export interface DownCommandOptions {
  cwd: string;
  verbose?: boolean;
  json?: boolean;
  purge?: boolean;
}

export async function runDown(options: DownCommandOptions): Promise<number> {
  const out = createOutput({ json: options.json ?? false });
  const runtime = await resolveRuntime({ cwd: options.cwd });
  const result = await runtime
    .down({ purge: options.purge ?? false, progress: (event) => out.progress(event) })
    .finally(() => out.endProgress());
  const lines = [result.stopped.length > 0 ? `stopped: ${result.stopped.join(', ')}` : 'nothing to stop'];
  if (result.purged) lines.push('purged: database, broker data, logs and state removed');
  out.result(lines.join('\n'), { ...result, nothingToStop: result.stopped.length === 0 });
  return 0;
}
