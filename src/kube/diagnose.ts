/**
 * Why a workload is not ready, from its pods' status and events (docs/architecture.md,
 * "Rollouts"): an image that cannot be pulled (with the pull error), a container that
 * keeps crashing (with its last log lines), a pod the scheduler cannot place (with
 * its reason), a readiness probe that fails (with its last message).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { containerStatuses, isPodReady, isTerminating, latestEvent, podReason, timeOf } from './pods.js';
import type { KubeClient } from './types.js';

export type Diagnosis =
  | { kind: 'image-pull'; pod: string; container: string; image: string; reason: string; message: string }
  | { kind: 'crash-loop'; pod: string; container: string; restarts: number; exitCode?: number; lastLogLines: string[] }
  /** A container that ran to a failing end and is not restarted (a Job's pod). */
  | { kind: 'exited'; pod: string; container: string; exitCode: number; lastLogLines: string[] }
  | { kind: 'unschedulable'; pod: string; message: string }
  | { kind: 'probe-failing'; pod: string; container?: string; message: string }
  | { kind: 'container-error'; pod: string; container: string; reason: string; message: string }
  | { kind: 'not-ready'; message: string };

/** Log lines shown with a crash loop. */
export const CRASH_LOG_LINES = 10;
const IMAGE_PULL_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);
const CONTAINER_ERROR_REASONS = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);
/** Most telling first: when pods disagree, the user hears about the worst. */
const SEVERITY: Diagnosis['kind'][] = ['image-pull', 'container-error', 'crash-loop', 'exited', 'unschedulable', 'probe-failing', 'not-ready'];

/** The most telling diagnosis over the workload's pods (those not being deleted). */
export async function diagnosePods(client: KubeClient, pods: V1Pod[]): Promise<Diagnosis> {
  const live = pods.filter((p) => !isTerminating(p) && !isPodReady(p));
  if (live.length === 0) return { kind: 'not-ready', message: pods.length === 0 ? 'no pods were created' : 'its pods are ready but the controller has not counted them yet' };
  const found = await Promise.all(live.map((pod) => diagnosePod(client, pod)));
  return found.sort((a, b) => SEVERITY.indexOf(a.kind) - SEVERITY.indexOf(b.kind))[0]!;
}

export async function diagnosePod(client: KubeClient, pod: V1Pod): Promise<Diagnosis> {
  const name = pod.metadata?.name ?? '';
  const namespace = pod.metadata?.namespace ?? '';
  const events = (await client.list('events', { namespace, fieldSelector: `involvedObject.name=${name}` })).items.filter(
    (e) => !e.involvedObject.uid || !pod.metadata?.uid || e.involvedObject.uid === pod.metadata.uid,
  );
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False') {
    const message = latestEvent(events, 'FailedScheduling')?.message ?? scheduled.message ?? 'the scheduler gave no reason';
    return { kind: 'unschedulable', pod: name, message };
  }
  for (const status of containerStatuses(pod)) {
    const waiting = status.state?.waiting;
    if (waiting?.reason && IMAGE_PULL_REASONS.has(waiting.reason)) {
      const image = specImage(pod, status.name) ?? status.image;
      const pullError = latestEvent(events, 'Failed', status.name, 'Failed to pull image')?.message;
      return { kind: 'image-pull', pod: name, container: status.name, image, reason: waiting.reason, message: pullError ?? waiting.message ?? waiting.reason };
    }
    if (waiting?.reason && CONTAINER_ERROR_REASONS.has(waiting.reason)) {
      return { kind: 'container-error', pod: name, container: status.name, reason: waiting.reason, message: waiting.message ?? waiting.reason };
    }
  }
  for (const status of containerStatuses(pod)) {
    if (status.state?.waiting?.reason === 'CrashLoopBackOff' || (status.restartCount > 0 && !status.ready && status.lastState?.terminated)) {
      const lastLogLines = await lastLines(client, namespace, name, status.name);
      return { kind: 'crash-loop', pod: name, container: status.name, restarts: status.restartCount, exitCode: status.lastState?.terminated?.exitCode, lastLogLines };
    }
  }
  for (const status of containerStatuses(pod)) {
    const exitCode = status.state?.terminated?.exitCode;
    if (exitCode !== undefined && exitCode !== 0) {
      return { kind: 'exited', pod: name, container: status.name, exitCode, lastLogLines: await lastLines(client, namespace, name, status.name) };
    }
  }
  const unready = (pod.status?.containerStatuses ?? []).filter((c) => !c.ready && c.state?.running);
  for (const status of unready) {
    const probe = latestEvent(events, 'Unhealthy', status.name);
    if (probe && timeOf(probe.lastTimestamp ?? probe.eventTime) >= timeOf(status.state?.running?.startedAt)) {
      return { kind: 'probe-failing', pod: name, container: status.name, message: probe.message ?? 'probe failed' };
    }
  }
  return { kind: 'not-ready', message: `pod ${name} is ${podReason(pod)}${describeUnready(pod)}` };
}

/** The last lines of the crashed run: the current log when it has lines, else the previous run's. */
async function lastLines(client: KubeClient, namespace: string, pod: string, container: string): Promise<string[]> {
  for (const previous of [false, true]) {
    const lines = await readLines(client, namespace, pod, container, previous);
    if (lines.length > 0) return lines;
  }
  return [];
}

async function readLines(client: KubeClient, namespace: string, pod: string, container: string, previous: boolean): Promise<string[]> {
  try {
    const stream = await client.podLog(namespace, pod, { container, tailLines: CRASH_LOG_LINES, previous });
    let text = '';
    for await (const chunk of stream.output) text += String(chunk);
    return text.split('\n').filter((l) => l.trim() !== '').slice(-CRASH_LOG_LINES);
  } catch {
    // No log to show (the container never ran, or its previous run is gone): say so through an empty list.
    return [];
  }
}

function specImage(pod: V1Pod, container: string): string | undefined {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === container)?.image;
}

function describeUnready(pod: V1Pod): string {
  const unready = (pod.status?.containerStatuses ?? []).filter((c) => !c.ready).map((c) => c.name);
  return unready.length > 0 ? `, containers not ready: ${unready.join(', ')}` : '';
}

/** The sentence a user reads under the workload's name. */
export function describeDiagnosis(d: Diagnosis): string {
  switch (d.kind) {
    case 'image-pull':
      return `pod ${d.pod} cannot pull image "${d.image}" (${d.reason}): ${d.message}`;
    case 'crash-loop': {
      const exit = d.exitCode === undefined ? '' : `, last exit code ${d.exitCode}`;
      return withLogLines(`container ${d.container} in pod ${d.pod} keeps crashing (CrashLoopBackOff, ${d.restarts} restart${d.restarts === 1 ? '' : 's'}${exit})`, d.lastLogLines);
    }
    case 'exited':
      return withLogLines(`container ${d.container} in pod ${d.pod} exited with code ${d.exitCode}`, d.lastLogLines);
    case 'unschedulable':
      return `pod ${d.pod} cannot be scheduled: ${d.message}`;
    case 'probe-failing':
      return `pod ${d.pod} runs but is not ready; its readiness probe fails: ${d.message}`;
    case 'container-error':
      return `container ${d.container} in pod ${d.pod} cannot start (${d.reason}): ${d.message}`;
    case 'not-ready':
      return d.message;
  }
}

function withLogLines(head: string, lines: string[]): string {
  return lines.length > 0 ? `${head}; its last log lines:\n${lines.map((l) => `    ${l}`).join('\n')}` : `${head}; it wrote no log`;
}
