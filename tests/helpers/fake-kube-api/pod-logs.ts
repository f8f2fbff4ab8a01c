/**
 * GET /api/v1/namespaces/N/pods/P/log with container, follow, tailLines, sinceSeconds,
 * sinceTime, timestamps and previous, answered from the pod's PodRuntime: text/plain
 * lines, kept open while following until the container's run ends or the pod goes,
 * and the real server's 400s for a container that has not started.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiFailure, badRequest } from './http-status.js';
import type { LogEntry, PodRuntime } from './pod-runtime.js';

export function servePodLog(req: IncomingMessage, res: ServerResponse, runtime: PodRuntime, query: URLSearchParams): void {
  const container = chooseContainer(runtime, query.get('container'));
  const previous = query.get('previous') === 'true';
  const run = runtime.instance(container, previous);
  if (!run) {
    if (previous) throw badRequest(`previous terminated container "${container}" in pod "${runtime.name}" not found`);
    throw badRequest(`container "${container}" in pod "${runtime.name}" is waiting to start: ${waitingReason(runtime, container)}`);
  }
  const timestamps = query.get('timestamps') === 'true';
  const format = (entry: LogEntry) => `${timestamps ? `${entry.time} ` : ''}${entry.text}\n`;
  const since = sinceOf(query);
  let backlog = run.entries.filter((e) => since === undefined || Date.parse(e.time) >= since);
  const tail = query.get('tailLines');
  if (tail !== null) backlog = Number(tail) === 0 ? [] : backlog.slice(-Number(tail));
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
  // Headers go out at once, as from the real server: a client waits for them before reading events.
  res.flushHeaders();
  for (const entry of backlog) res.write(format(entry));
  if (query.get('follow') !== 'true' || run.ended || previous) {
    res.end();
    return;
  }
  const unsubscribe = run.subscribe((entry) => {
    if (entry === 'end') res.end();
    else res.write(format(entry));
  });
  res.on('close', unsubscribe);
  req.on('close', unsubscribe);
}

function chooseContainer(runtime: PodRuntime, asked: string | null): string {
  if (asked) {
    if (!runtime.containerNames.includes(asked)) throw badRequest(`container ${asked} is not valid for pod ${runtime.name}`);
    return asked;
  }
  if (runtime.containerNames.length === 1) return runtime.containerNames[0]!;
  throw badRequest(`a container name must be specified for pod ${runtime.name}, choose one of: [${runtime.containerNames.join(' ')}]`);
}

function waitingReason(runtime: PodRuntime, container: string): string {
  if (runtime.unschedulable) return 'ContainerCreating';
  return runtime.conditions.get(container)?.state === 'image-pull' ? 'trying and failing to pull image' : 'ContainerCreating';
}

/** The earliest time wanted, in epoch ms, from sinceSeconds or sinceTime. */
function sinceOf(query: URLSearchParams): number | undefined {
  const seconds = query.get('sinceSeconds');
  const time = query.get('sinceTime');
  if (seconds !== null && time !== null) throw new ApiFailure(422, 'Invalid', 'at most one of sinceTime or sinceSeconds may be specified');
  if (seconds !== null) return Date.now() - Number(seconds) * 1_000;
  if (time !== null) return Date.parse(time);
  return undefined;
}
