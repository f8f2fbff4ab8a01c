/**
 * Logs of every pod of a workload, merged, each line tagged with its pod
 * (docs/architecture.md, "Kubernetes layer"). The backlog (tail, since) is merged by the
 * kubelet's timestamps; when following, each pod's stream is re-opened across
 * container restarts and new pods are picked up from a watch, and the stream says
 * so with notices ("now following pod X (replaced Y)"), so logs never silently stop
 * after a redeploy or a crash.
 */
import { createInterface } from 'node:readline';
import type { V1Pod } from '@kubernetes/client-node';
import { systemClock } from '../core/poll.js';
import { AsyncQueue } from './async-queue.js';
import { ISTIO_PROXY } from './forward-target.js';
import { containerStatuses, isTerminating, selectorString } from './pods.js';
import type { KubeClient, PodLogOptions } from './types.js';

export type PodLogEvent =
  | { kind: 'line'; pod: string; container: string; line: string; time?: Date }
  | { kind: 'notice'; pod: string; message: string };

export interface WorkloadLogOptions {
  namespace: string;
  workload: { kind: 'Deployment' | 'StatefulSet'; name: string };
  /** Default: the pod template's first container that is not the mesh proxy. */
  container?: string;
  follow: boolean;
  /** The last N lines of each pod. */
  tailLines?: number;
  sinceSeconds?: number;
  signal?: AbortSignal;
  /** Pause between looks at a pod whose container is not running (yet). */
  retryMs?: number;
}

const DEFAULT_RETRY_MS = 500;
/** How long a cut stream may wait for the pod's status to show a new container run. */
const RESTART_SETTLE_MS = 5_000;

/** `[catalog-7d9f-x2k4p] {"level":30,...}` or `ecom: now following pod ...` */
export function formatPodLogEvent(event: PodLogEvent): string {
  return event.kind === 'line' ? `[${event.pod}] ${event.line}` : `ecom: ${event.message}`;
}

interface TimedLine {
  /** RFC 3339 with nine fraction digits: sorts as text. */
  key: string;
  time?: Date;
  text: string;
}

export async function* workloadLogs(client: KubeClient, options: WorkloadLogOptions): AsyncGenerator<PodLogEvent> {
  const { selector, container } = await readWorkloadPods(client, options);
  const listed = await client.list('pods', { namespace: options.namespace, labelSelector: selector });
  const live = listed.items.filter((p) => !isTerminating(p));
  const readAt = timeKey(new Date());
  const query: PodLogOptions = { container, timestamps: true, tailLines: options.tailLines, sinceSeconds: options.sinceSeconds };
  // The client sends no tailLines=0 (it drops falsy values): --tail 0 reads no backlog at all.
  const wanted = options.tailLines === 0 ? [] : live.filter((p) => runOf(p, container).started);
  const read = await Promise.all(wanted.map(async (pod) => [name(pod), await readAll(client, options.namespace, name(pod), query)] as const));
  // A pod whose log could not be read is said so: an empty answer would look like a silent service.
  for (const [pod, lines] of read) if (lines instanceof Error) yield { kind: 'notice', pod, message: `could not read the log of pod ${pod}: ${lines.message}` };
  const backlogs = new Map(read.filter((entry): entry is readonly [string, TimedLine[]] => !(entry[1] instanceof Error)));
  const merged = [...backlogs].flatMap(([pod, lines]) => lines.map((l) => ({ pod, ...l }))).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const line of merged) yield lineEvent(line.pod, container, line);
  if (!options.follow || options.signal?.aborted) return;
  const follower = new WorkloadFollower(client, options, selector, container);
  for (const pod of live) {
    // Started pods go on from their last line (or from when the backlog was read); others are announced once they start.
    if (runOf(pod, container).started) follower.follow(pod, backlogs.get(name(pod))?.at(-1)?.key ?? readAt, undefined);
    else follower.follow(pod, undefined, {});
  }
  await follower.watch(listed.resourceVersion);
  // An abort while the watch was being opened has already fired: a listener added now would never run.
  if (options.signal?.aborted) follower.stop();
  else options.signal?.addEventListener('abort', () => follower.stop(), { once: true });
  try {
    yield* follower.events;
  } finally {
    follower.stop();
  }
}

async function readWorkloadPods(client: KubeClient, options: WorkloadLogOptions): Promise<{ selector: string; container: string }> {
  const { namespace, workload } = options;
  const object = workload.kind === 'Deployment' ? await client.read('deployments', namespace, workload.name) : await client.read('statefulsets', namespace, workload.name);
  if (!object) throw new Error(`${workload.kind} ${namespace}/${workload.name} does not exist`);
  const containers = object.spec?.template.spec?.containers ?? [];
  const container = options.container ?? containers.find((c) => c.name !== ISTIO_PROXY)?.name ?? containers[0]?.name ?? '';
  return { selector: selectorString(object.spec?.selector), container };
}

class WorkloadFollower {
  readonly events = new AsyncQueue<PodLogEvent>();
  private readonly followed = new Set<string>();
  /** Pods whose stream ended before the watch said they were deleted (the stream often ends first). */
  private readonly ended = new Set<string>();
  /** Pods gone while no new pod had taken their place yet, oldest first. */
  private readonly gone: string[] = [];
  /** New pods that replaced nothing yet (they came before the pod they replace went). */
  private readonly arrived: string[] = [];
  private readonly stopping = new AbortController();
  private watchHandle: { stop(): void } | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly options: WorkloadLogOptions,
    private readonly selector: string,
    private readonly container: string,
  ) {}

  stop(): void {
    if (this.stopping.signal.aborted) return;
    this.stopping.abort();
    this.watchHandle?.stop();
    this.events.close();
  }

  /** Watches the workload's pods from `resourceVersion`; re-lists and watches again when a watch ends. */
  async watch(resourceVersion: string | undefined): Promise<void> {
    const { namespace } = this.options;
    this.watchHandle = await this.client.watch('pods', { namespace, labelSelector: this.selector, resourceVersion }, {
      onEvent: (type, pod) => {
        if (type === 'DELETED') this.podGone(name(pod));
        else if (!this.followed.has(name(pod)) && !isTerminating(pod)) this.follow(pod, undefined, this.replacedBy(name(pod)));
      },
      onEnd: () => void this.rewatch(),
    });
  }

  private async rewatch(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      try {
        const listed = await this.client.list('pods', { namespace: this.options.namespace, labelSelector: this.selector });
        for (const pod of listed.items) if (!this.followed.has(name(pod)) && !isTerminating(pod)) this.follow(pod, undefined, this.replacedBy(name(pod)));
        return await this.watch(listed.resourceVersion);
      } catch (err) {
        this.notice('', `watching the pods failed (${err instanceof Error ? err.message : String(err)}); retrying`);
        await systemClock.sleep(this.retryMs, this.stopping.signal);
      }
    }
  }

  /** What a new pod replaced, if a pod went before it came; otherwise it waits for one to go. */
  private replacedBy(pod: string): { replaced?: string } {
    const replaced = this.gone.shift();
    if (!replaced) this.arrived.push(pod);
    return replaced ? { replaced } : {};
  }

  private podGone(pod: string): void {
    if (!this.followed.has(pod) && !this.ended.delete(pod) && !this.gone.includes(pod)) return;
    const successor = this.arrived.shift();
    if (successor) this.notice(pod, `pod ${pod} is gone (replaced by ${successor})`);
    else {
      this.gone.push(pod);
      this.notice(pod, `pod ${pod} is gone`);
    }
  }

  /** Streams one pod's log until the pod goes; `announce` set: say so once its stream opens. */
  follow(pod: V1Pod, lastKey: string | undefined, announce: { replaced?: string } | undefined): void {
    const podName = name(pod);
    this.followed.add(podName);
    void this.followLoop(pod, lastKey, announce).finally(() => {
      this.followed.delete(podName);
      this.ended.add(podName);
    });
  }

  private async followLoop(pod: V1Pod, lastKey: string | undefined, announce: { replaced?: string } | undefined): Promise<void> {
    const podName = name(pod);
    const uid = pod.metadata?.uid;
    let run = await this.nextRun(podName, uid, undefined);
    while (run && !this.stopping.signal.aborted) {
      if (announce) {
        this.notice(podName, `now following pod ${podName}${announce.replaced ? ` (replaced ${announce.replaced})` : ''}`);
        announce = undefined;
      }
      const options: PodLogOptions = { container: this.container, follow: true, timestamps: true, ...(lastKey ? { sinceTime: lastKey } : {}) };
      lastKey = await this.stream(podName, options, lastKey);
      const next = await this.nextRun(podName, uid, run.id);
      if (next && next.id !== run.id) this.notice(podName, `pod ${podName}: container ${this.container} restarted (restart ${next.restarts}); following its new run`);
      run = next;
    }
  }

  /** Reads one stream to its end; returns the key of the last line read. */
  private async stream(pod: string, options: PodLogOptions, lastKey: string | undefined): Promise<string | undefined> {
    let opened: Awaited<ReturnType<KubeClient['podLog']>>;
    try {
      opened = await this.client.podLog(this.options.namespace, pod, options);
    } catch {
      // The run ended or the pod went between the look and the request: the next look tells which.
      return lastKey;
    }
    const stop = () => opened.stop();
    this.stopping.signal.addEventListener('abort', stop, { once: true });
    try {
      for await (const raw of createInterface({ input: opened.output, crlfDelay: Infinity })) {
        const line = parseTimestamped(raw);
        // Re-opened streams start at sinceTime (whole seconds): skip what was already read.
        if (lastKey && line.key && line.key <= lastKey) continue;
        lastKey = line.key || lastKey;
        this.events.push(lineEvent(pod, this.container, line));
      }
    } finally {
      this.stopping.signal.removeEventListener('abort', stop);
    }
    return lastKey;
  }

  /**
   * The container run to read next: once it has started, and when `after` is given, a
   * run other than that one (or that same one again when the status shows no change
   * within a few seconds: the stream was cut, not ended). Undefined when the pod is gone.
   */
  private async nextRun(pod: string, uid: string | undefined, after: string | undefined): Promise<{ id: string; restarts: number } | undefined> {
    const settleBy = Date.now() + RESTART_SETTLE_MS;
    while (!this.stopping.signal.aborted) {
      const current = await this.client.read('pods', this.options.namespace, pod).catch(() => undefined);
      if (!current || current.metadata?.uid !== uid || isTerminating(current)) return undefined;
      const run = runOf(current, this.container);
      if (run.running && (run.id !== after || Date.now() >= settleBy)) return { id: run.id, restarts: run.restarts };
      if (run.finished && run.id === after && Date.now() >= settleBy) return undefined;
      if (after === undefined && run.started) return { id: run.id, restarts: run.restarts };
      await systemClock.sleep(this.retryMs, this.stopping.signal);
    }
    return undefined;
  }

  private get retryMs(): number {
    return this.options.retryMs ?? DEFAULT_RETRY_MS;
  }

  private notice(pod: string, message: string): void {
    this.events.push({ kind: 'notice', pod, message });
  }
}

function name(pod: V1Pod): string {
  return pod.metadata?.name ?? '';
}

/** The container's current run as the pod status shows it. */
function runOf(pod: V1Pod, container: string): { id: string; restarts: number; started: boolean; running: boolean; finished: boolean } {
  const status = containerStatuses(pod).find((c) => c.name === container);
  const running = Boolean(status?.state?.running);
  const finished = Boolean(status?.state?.terminated);
  return { id: status?.containerID ?? '', restarts: status?.restartCount ?? 0, started: running || finished || (status?.restartCount ?? 0) > 0, running, finished };
}

/** The pod's backlog, or why it could not be read (the pod went, the API refused). */
async function readAll(client: KubeClient, namespace: string, pod: string, options: PodLogOptions): Promise<TimedLine[] | Error> {
  try {
    const { output } = await client.podLog(namespace, pod, options);
    const lines: TimedLine[] = [];
    for await (const raw of createInterface({ input: output, crlfDelay: Infinity })) lines.push(parseTimestamped(raw));
    return lines;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/** A time in the sortable key format of log lines. */
function timeKey(date: Date): string {
  const iso = date.toISOString();
  return `${iso.slice(0, 19)}.${iso.slice(20, 23)}000000Z`;
}

/** `2025-01-02T03:04:05.123456789Z text` as the kubelet writes it with timestamps=true. */
function parseTimestamped(raw: string): TimedLine {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z (.*)$/s.exec(raw);
  if (!match) return { key: '', text: raw };
  const [, seconds, fraction = '', text] = match as unknown as [string, string, string | undefined, string];
  const key = `${seconds}.${fraction.padEnd(9, '0')}Z`;
  return { key, time: new Date(`${seconds}.${fraction.padEnd(3, '0').slice(0, 3)}Z`), text };
}

function lineEvent(pod: string, container: string, line: TimedLine): PodLogEvent {
  return line.time ? { kind: 'line', pod, container, line: line.text, time: line.time } : { kind: 'line', pod, container, line: line.text };
}
