/**
 * Reading pods and events the way kubectl presents them: whether a pod is Ready, the
 * one-word reason of its state (the STATUS column), its restarts, a workload's
 * selector as a label selector string, and events newest first.
 */
import type { CoreV1Event, V1ContainerStatus, V1LabelSelector, V1Pod } from '@kubernetes/client-node';

/** Milliseconds of a time the library gives as a Date (typed reads) or a string (raw JSON). */
export function timeOf(value: Date | string | undefined | null): number {
  if (!value) return 0;
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isNaN(ms) ? 0 : ms;
}

/** `app=catalog,tier in (web)` from a workload's spec.selector. */
export function selectorString(selector: V1LabelSelector | undefined): string {
  const terms = Object.entries(selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector?.matchExpressions ?? []) {
    if (e.operator === 'In') terms.push(`${e.key} in (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'NotIn') terms.push(`${e.key} notin (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'Exists') terms.push(e.key);
    else if (e.operator === 'DoesNotExist') terms.push(`!${e.key}`);
  }
  return terms.join(',');
}

export function isTerminating(pod: V1Pod): boolean {
  return Boolean(pod.metadata?.deletionTimestamp);
}

export function isPodReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Init containers first, then the regular ones. */
export function containerStatuses(pod: V1Pod): V1ContainerStatus[] {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
}

export function podRestarts(pod: V1Pod): number {
  return containerStatuses(pod).reduce((sum, c) => sum + (c.restartCount ?? 0), 0);
}

/** What kubectl's STATUS column would say: CrashLoopBackOff, ImagePullBackOff, Unschedulable, Running... */
export function podReason(pod: V1Pod): string {
  if (isTerminating(pod)) return 'Terminating';
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason) return scheduled.reason;
  for (const c of containerStatuses(pod)) {
    if (c.state?.waiting?.reason && c.state.waiting.reason !== 'PodInitializing') return c.state.waiting.reason;
  }
  for (const c of pod.status?.containerStatuses ?? []) {
    if (c.state?.terminated?.reason) return c.state.terminated.reason;
  }
  return pod.status?.reason ?? pod.status?.phase ?? 'Unknown';
}

/** A pod's events, newest first. */
export function newestFirst(events: CoreV1Event[]): CoreV1Event[] {
  const when = (e: CoreV1Event) => Math.max(timeOf(e.lastTimestamp), timeOf(e.eventTime), timeOf(e.firstTimestamp), timeOf(e.metadata?.creationTimestamp));
  // Same second: later writes have higher resourceVersions (one counter per cluster).
  const version = (e: CoreV1Event) => Number(e.metadata?.resourceVersion ?? 0);
  return [...events].sort((a, b) => when(b) - when(a) || version(b) - version(a));
}

/** The newest event with this reason, for this container when named (`spec.containers{name}`). */
export function latestEvent(events: CoreV1Event[], reason: string, container?: string, messageStart?: string): CoreV1Event | undefined {
  return newestFirst(events).find(
    (e) =>
      e.reason === reason &&
      (!container || !e.involvedObject.fieldPath || e.involvedObject.fieldPath.includes(`{${container}}`)) &&
      (!messageStart || (e.message ?? '').startsWith(messageStart)),
  );
}
