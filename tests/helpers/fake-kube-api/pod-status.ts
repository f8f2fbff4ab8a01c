/**
 * A pod's status and the events the scheduler and kubelet would record, derived from
 * its PodRuntime, in the shapes and words of a real cluster (phase, conditions,
 * containerStatuses with waiting/terminated reasons; FailedScheduling, Failed,
 * BackOff, Unhealthy events), because that is what ecom's diagnosis reads.
 */
import type { IContainerStatus } from 'kubernetes-models/v1/ContainerStatus';
import type { IPodStatus } from 'kubernetes-models/v1/PodStatus';
import type { ContainerCondition, PodRuntime } from './pod-runtime.js';

export interface PodEventSpec {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** `spec.containers{catalog}` for container events. */
  fieldPath?: string;
  component: 'kubelet' | 'default-scheduler';
}

export interface PodView {
  namespace: string;
  name: string;
  uid: string;
  images: Record<string, string>;
  startTime: string;
}

const CRASH_BACKOFF_SECONDS = 40;

export function podStatusOf(pod: PodView, runtime: PodRuntime): { status: IPodStatus; events: PodEventSpec[] } {
  if (runtime.unschedulable) {
    return {
      status: {
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: runtime.unschedulable, lastTransitionTime: pod.startTime }],
        qosClass: 'Burstable',
      },
      events: [{ type: 'Warning', reason: 'FailedScheduling', message: runtime.unschedulable, component: 'default-scheduler' }],
    };
  }
  const events: PodEventSpec[] = [
    { type: 'Normal', reason: 'Scheduled', message: `Successfully assigned ${pod.namespace}/${pod.name} to fake-worker`, component: 'default-scheduler' },
  ];
  const containerStatuses = runtime.containerNames.map((name) => {
    const condition = runtime.conditions.get(name) ?? { state: 'starting' as const };
    const image = pod.images[name] ?? 'unknown';
    events.push(...containerEvents(pod, name, image, condition));
    return containerStatus(pod, runtime, name, image, condition);
  });
  const allReady = containerStatuses.every((c) => c.ready);
  const terminated = containerStatuses.map((c) => c.state?.terminated).filter((t) => t !== undefined);
  const phase =
    terminated.length === containerStatuses.length
      ? terminated.every((t) => t.exitCode === 0) ? 'Succeeded' : 'Failed'
      : containerStatuses.some((c) => c.started || c.restartCount > 0) ? 'Running' : 'Pending';
  const done = phase === 'Succeeded' || phase === 'Failed';
  const ready = allReady && !done ? 'True' : 'False';
  const notReady = done ? { reason: 'PodCompleted' } : allReady ? {} : { reason: 'ContainersNotReady', message: `containers with unready status: [${containerStatuses.filter((c) => !c.ready).map((c) => c.name).join(' ')}]` };
  const at = pod.startTime;
  return {
    status: {
      phase,
      conditions: [
        { type: 'PodReadyToStartContainers', status: 'True', lastTransitionTime: at },
        { type: 'Initialized', status: 'True', lastTransitionTime: at },
        { type: 'Ready', status: ready, lastTransitionTime: at, ...notReady },
        { type: 'ContainersReady', status: ready, lastTransitionTime: at, ...notReady },
        { type: 'PodScheduled', status: 'True', lastTransitionTime: at },
      ],
      hostIP: '172.18.0.3',
      podIP: runtime.podIP ?? '10.244.1.7',
      startTime: at,
      containerStatuses,
      qosClass: 'Burstable',
    },
    events,
  };
}

function containerStatus(pod: PodView, runtime: PodRuntime, name: string, image: string, condition: ContainerCondition): IContainerStatus {
  const restartCount = runtime.restarts.get(name) ?? 0;
  // Each run of a container has its own ID, as with a real runtime: a restart changes it.
  const base = { name, image, imageID: '', restartCount, containerID: `containerd://${pod.uid.replace(/-/g, '')}-${name}-${restartCount}` };
  const running = { running: { startedAt: pod.startTime } };
  switch (condition.state) {
    case 'ready':
      return { ...base, ready: true, started: true, state: running };
    case 'starting':
    case 'unhealthy':
      return { ...base, ready: false, started: true, state: running };
    case 'image-pull':
      return { ...base, imageID: '', containerID: undefined, ready: false, started: false, state: { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` } } };
    case 'crash-loop':
      return {
        ...base,
        ready: false,
        started: false,
        state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${CRASH_BACKOFF_SECONDS}s restarting failed container=${name} pod=${pod.name}_${pod.namespace}(${pod.uid})` } },
        lastState: { terminated: { exitCode: condition.exitCode ?? 1, reason: 'Error', startedAt: pod.startTime, finishedAt: pod.startTime } },
      };
    case 'completed':
      return { ...base, ready: false, started: false, state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: pod.startTime, finishedAt: pod.startTime } } };
    case 'failed':
      return { ...base, ready: false, started: false, state: { terminated: { exitCode: condition.exitCode, reason: 'Error', startedAt: pod.startTime, finishedAt: pod.startTime } } };
  }
}

function containerEvents(pod: PodView, name: string, image: string, condition: ContainerCondition): PodEventSpec[] {
  const at = { fieldPath: `spec.containers{${name}}`, component: 'kubelet' as const };
  const started: PodEventSpec[] = [
    { type: 'Normal', reason: 'Created', message: `Created container: ${name}`, ...at },
    { type: 'Normal', reason: 'Started', message: `Started container ${name}`, ...at },
  ];
  switch (condition.state) {
    case 'image-pull': {
      const why = condition.message ?? `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": not found`;
      return [
        { type: 'Normal', reason: 'Pulling', message: `Pulling image "${image}"`, ...at },
        { type: 'Warning', reason: 'Failed', message: `Failed to pull image "${image}": ${why}`, ...at },
        { type: 'Warning', reason: 'Failed', message: 'Error: ErrImagePull', ...at },
        { type: 'Normal', reason: 'BackOff', message: `Back-off pulling image "${image}"`, ...at },
        { type: 'Warning', reason: 'Failed', message: 'Error: ImagePullBackOff', ...at },
      ];
    }
    case 'crash-loop':
      return [...started, { type: 'Warning', reason: 'BackOff', message: `Back-off restarting failed container ${name} in pod ${pod.name}_${pod.namespace}(${pod.uid})`, ...at }];
    case 'unhealthy':
      return [...started, { type: 'Warning', reason: 'Unhealthy', message: condition.message, ...at }];
    default:
      return started;
  }
}
