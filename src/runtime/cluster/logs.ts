/**
 * `ecom logs` for the cluster runtimes (docs/architecture.md, "kind"): every pod of
 * each service's Deployment (src/kube/logs.ts reads and follows one Deployment), each
 * line tagged with its pod, the services merged in time order (core/log-merge.ts).
 *
 * Two passes, so the backlog is merged exactly and nothing is lost or shown twice:
 * first each service's backlog (its pods' last lines, since a time) is read to its
 * end and merged across services; then each service is followed from a little
 * before that read began, and what the first pass already showed is dropped. While
 * following, lines come as the pods write them, and the stream says when a pod is
 * replaced or a container restarts.
 */
import { levelFilter } from '../../core/log-level.js';
import { filterSince, lastLines, mergeByTime, noticeLine, type LogLine, type LogSource } from '../../core/log-merge.js';
import { AsyncQueue } from '../../kube/async-queue.js';
import { workloadLogs, type PodLogEvent, type WorkloadLogOptions } from '../../kube/logs.js';
import type { KubeClient } from '../../kube/types.js';
import type { LogOptions } from '../types.js';
import { SERVICES_NAMESPACE } from './status.js';

const MS_PER_SECOND = 1_000;
/** The follow pass starts this much before the backlog was read, so no line falls between the two. */
const FOLLOW_OVERLAP_SECONDS = 1;

export async function* clusterLogs(client: KubeClient, options: LogOptions): AsyncGenerator<LogLine> {
  const backlogStarted = Date.now();
  const backlogs = await Promise.all(options.services.map((service) => readBacklog(client, service, options)));
  yield* mergeByTime(backlogs.map((b) => b.lines));
  if (!options.follow || options.signal?.aborted) return;
  const shown = new ShownLines(backlogs.flatMap((b) => b.lines));
  const followed = backlogs.filter((b) => b.exists).map((b) => b.service);
  const atLevel = levelFilter(options.level);
  for await (const line of followServices(client, followed, backlogStarted, options.signal)) {
    if (line.time && line.time.getTime() < backlogStarted) continue;
    if (!shown.takeBack(line) && atLevel(line)) yield line;
  }
}

interface Backlog {
  service: LogSource;
  exists: boolean;
  lines: LogLine[];
}

/** One service's backlog, all pods merged: `since` exactly, then its last `tail` lines. */
async function readBacklog(client: KubeClient, service: LogSource, options: LogOptions): Promise<Backlog> {
  const sinceSeconds = options.since ? Math.max(1, Math.ceil((Date.now() - options.since.getTime()) / MS_PER_SECOND)) : undefined;
  const lines: LogLine[] = [];
  try {
    // tailLines per pod: no pod can add more than `tail` to the service's last `tail` (unless a level drops some).
    const tailLines = options.level ? undefined : options.tail;
    for await (const event of workloadLogs(client, { ...workloadOf(service), follow: false, tailLines, sinceSeconds })) {
      lines.push(toLogLine(service, event));
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { service, exists: false, lines: [noticeLine(service, `no logs for ${service}: ${message}`, 'warn')] };
  }
  return { service, exists: true, lines: lastLines(filterSince(lines, options.since).filter(levelFilter(options.level)), options.tail) };
}

/** Every service followed at once, lines in the order they arrive, until the signal aborts. */
function followServices(client: KubeClient, services: LogSource[], from: number, signal: AbortSignal | undefined): AsyncIterable<LogLine> {
  const queue = new AsyncQueue<LogLine>();
  const stop = new AbortController();
  const end = () => {
    stop.abort();
    queue.close();
  };
  signal?.addEventListener('abort', end, { once: true });
  const sinceSeconds = Math.ceil((Date.now() - from) / MS_PER_SECOND) + FOLLOW_OVERLAP_SECONDS;
  let running = services.length;
  const follow = async (service: LogSource) => {
    try {
      for await (const event of workloadLogs(client, { ...workloadOf(service), follow: true, sinceSeconds, signal: stop.signal })) {
        queue.push(toLogLine(service, event));
      }
    } catch (err) {
      queue.push(noticeLine(service, `stopped following ${service}: ${err instanceof Error ? err.message : String(err)}`, 'warn'));
    }
    if (--running === 0) queue.close();
  };
  for (const service of services) void follow(service);
  if (services.length === 0) queue.close();
  return {
    async *[Symbol.asyncIterator]() {
      try {
        yield* queue;
      } finally {
        signal?.removeEventListener('abort', end);
        stop.abort();
      }
    },
  };
}

/**
 * Where a part's pods are: a service's Deployment, or a dependency's workload (the
 * layout's StatefulSets, the Prometheus chart's server). The cluster runtimes have no
 * supervisor process: their forwarder logs to <state>/logs/forwarder.log.
 */
function workloadOf(source: LogSource): Pick<WorkloadLogOptions, 'namespace' | 'workload'> {
  switch (source) {
    case 'postgres':
      return { namespace: 'database', workload: { kind: 'StatefulSet', name: 'postgres' } };
    case 'broker':
      return { namespace: 'messaging', workload: { kind: 'StatefulSet', name: 'rabbitmq' } };
    case 'prometheus':
      return { namespace: 'monitoring', workload: { kind: 'Deployment', name: 'prometheus-server' } };
    case 'supervisor':
      throw new Error('the cluster runtimes run no supervisor; the port-forwarder logs to <state>/logs/forwarder.log');
    default:
      return { namespace: SERVICES_NAMESPACE, workload: { kind: 'Deployment', name: source } };
  }
}

/** A pod's line keeps its pod and the kubelet's time; a notice becomes ecom's own marked line. */
function toLogLine(service: LogSource, event: PodLogEvent): LogLine {
  if (event.kind === 'notice') {
    const notice = noticeLine(service, event.message);
    return event.pod ? { ...notice, pod: event.pod } : notice;
  }
  const line: LogLine = { service, line: event.line, pod: event.pod };
  if (event.time) line.time = event.time;
  return line;
}

/**
 * The lines the backlog pass showed, counted by pod, time and text, so the follow
 * pass drops each exactly as often as it was shown (two equal lines in the same
 * millisecond are two lines).
 */
class ShownLines {
  private readonly counts = new Map<string, number>();

  constructor(lines: LogLine[]) {
    for (const line of lines) if (line.time) this.counts.set(keyOf(line), (this.counts.get(keyOf(line)) ?? 0) + 1);
  }

  /** True (and one fewer left) when this line was shown already. */
  takeBack(line: LogLine): boolean {
    if (!line.time) return false;
    const key = keyOf(line);
    const left = this.counts.get(key) ?? 0;
    if (left === 0) return false;
    this.counts.set(key, left - 1);
    return true;
  }
}

function keyOf(line: LogLine): string {
  return `${line.service}\0${line.pod ?? ''}\0${line.time?.toISOString() ?? ''}\0${line.line}`;
}
