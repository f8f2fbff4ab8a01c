/**
 * The fake cluster behind the API: reacts to stored changes as the controllers and
 * kubelet would - a Deployment, StatefulSet or Job gets pods from its template (a
 * deleted pod is replaced, a changed template replaces them all), pods get status and
 * events from their PodRuntime, workloads get status from their pods, and deleting a
 * workload or namespace deletes what it owns. Work is queued and run on the next
 * turn of the event loop, as controllers react asynchronously.
 */
import { randomBytes } from 'node:crypto';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { PodBackend } from './pod-backend.js';
import { PodRuntime } from './pod-runtime.js';
import { podStatusOf, type PodEventSpec } from './pod-status.js';
import { findResource, findResourceByKind, RESOURCE_TYPES } from './resources.js';
import type { Change, ObjectStore, StoredObject } from './store.js';
import { nextPodIdentity, specOf, templateHash, WORKLOAD_KINDS, workloadKey, workloadStatus, type WorkloadKind } from './workloads.js';

const WORKLOAD_API: Record<WorkloadKind, string> = { Deployment: 'apps/v1', StatefulSet: 'apps/v1', Job: 'batch/v1' };
/** A bound on the controller loop, so a bug in the fake fails loudly instead of spinning. */
const MAX_FLUSH_STEPS = 10_000;

const PODS = findResource('', 'v1', 'pods')!;
const EVENTS = findResource('', 'v1', 'events')!;

export class FakeCluster {
  readonly runtimes = new Map<string, PodRuntime>();
  private readonly hashes = new Map<string, string>();
  private readonly recordedEvents = new Map<string, Set<string>>();
  private readonly queue = new Set<string>();
  private scheduled = false;
  private unsubscribe: () => void = () => undefined;

  constructor(
    readonly store: ObjectStore,
    readonly backend: PodBackend,
  ) {
    backend.attach?.(this);
  }

  start(): void {
    this.unsubscribe = this.store.subscribe((change) => this.onChange(change));
  }

  stop(): void {
    this.unsubscribe();
    for (const runtime of this.runtimes.values()) runtime.stop();
  }

  runtime(namespace: string, pod: string): PodRuntime | undefined {
    return this.runtimes.get(`${namespace}/${pod}`);
  }

  /** The pods a workload owns now, oldest first. */
  podsOf(workload: string): PodRuntime[] {
    return [...this.runtimes.values()].filter((r) => r.workload === workload && !r.stopped);
  }

  /** Runs all queued controller work now (tests call it to observe the result at once). */
  flush(): void {
    this.scheduled = false;
    for (let steps = 0; this.queue.size > 0; steps++) {
      if (steps > MAX_FLUSH_STEPS) throw new Error('fake cluster: the controller loop does not settle');
      const key = this.queue.values().next().value as string;
      this.queue.delete(key);
      if (key.startsWith('Pod/')) this.writePodStatus(key.slice(4));
      else this.reconcile(key);
    }
  }

  private schedule(key: string): void {
    this.queue.add(key);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private onChange({ type, resource, object }: Change): void {
    const { namespace = '', name } = object.metadata;
    if ((WORKLOAD_KINDS as string[]).includes(resource.kind)) {
      const key = workloadKey(resource.kind, namespace, name);
      if (type === 'DELETED') this.deletePodsOf(key);
      else this.schedule(key);
    } else if (resource.kind === 'Pod') {
      this.onPodChange(type, object);
    } else if (resource.kind === 'Namespace' && type === 'DELETED') {
      for (const r of RESOURCE_TYPES.filter((t) => t.namespaced)) {
        for (const o of this.store.list(r, name)) this.store.remove(r, name, o.metadata.name);
      }
    }
  }

  private onPodChange(type: Change['type'], pod: StoredObject): void {
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const runtime = this.runtimes.get(key);
    if (type === 'DELETED') {
      if (!runtime) return;
      runtime.stop();
      this.runtimes.delete(key);
      this.recordedEvents.delete(key);
      void this.backend.stopped(runtime);
      if (runtime.workload) this.schedule(runtime.workload);
    } else if (!runtime) {
      // A pod applied directly, owned by no workload.
      this.startPod(pod, undefined);
    } else if (runtime.workload) {
      this.schedule(runtime.workload);
    }
  }

  private reconcile(key: string): void {
    const [kind, namespace, name] = key.split('/') as [WorkloadKind, string, string];
    const resource = findResourceByKind(WORKLOAD_API[kind], kind)!;
    const workload = this.store.get(resource, namespace, name);
    if (!workload) return this.deletePodsOf(key);
    const hash = templateHash(specOf(workload).template);
    for (const pod of this.podsOf(key)) if (this.hashes.get(podKey(pod)) !== hash) this.deletePod(pod);
    let pods = this.podsOf(key);
    // A Job runs one pod and never retries in the fake: once it has a pod (or ended), it wants no more.
    const desired = kind === 'Job' ? (pods.length > 0 || jobEnded(workload) ? pods.length : 1) : (specOf(workload).replicas ?? 1);
    for (const extra of pods.slice(desired)) this.deletePod(extra);
    for (let i = pods.length; i < desired; i++) this.createPod(workload, key, hash);
    pods = this.podsOf(key);
    const summaries = pods.map((p) => this.summary(p));
    const status = workloadStatus(workload, summaries, hash);
    if (JSON.stringify(status) !== JSON.stringify(workload.status)) this.store.put(resource, { ...workload, status });
  }

  private summary(runtime: PodRuntime): { hash: string; ready: boolean; phase: string } {
    const pod = this.store.get(PODS, runtime.namespace, runtime.name);
    const status = (pod?.status ?? {}) as { phase?: string; conditions?: Array<{ type: string; status: string }> };
    const ready = status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    return { hash: this.hashes.get(podKey(runtime)) ?? '', ready, phase: status.phase ?? 'Pending' };
  }

  private createPod(workload: StoredObject, key: string, hash: string): void {
    const names = new Set(this.podsOf(key).map((p) => p.name));
    const identity = nextPodIdentity(workload, hash, names);
    if (!identity) return;
    const template = specOf(workload).template ?? {};
    const pod: StoredObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: identity.name,
        namespace: workload.metadata.namespace,
        labels: { ...template.metadata?.labels, ...identity.labels },
        ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
        ownerReferences: [ownerOf(workload, hash)],
      },
      spec: { ...structuredClone(template.spec ?? { containers: [] }), nodeName: 'fake-worker' },
      status: { phase: 'Pending', qosClass: 'Burstable' },
    };
    this.hashes.set(`${pod.metadata.namespace}/${pod.metadata.name}`, hash);
    this.backend.admit?.(pod, key);
    this.startPod(pod, key);
  }

  private startPod(pod: StoredObject, workload: string | undefined): void {
    const { namespace = 'default', name } = pod.metadata;
    const containers = ((pod.spec as { containers?: IContainer[] } | undefined)?.containers ?? []).map((c) => c.name);
    const runtime = new PodRuntime(namespace, name, containers, workload, () => this.schedule(`Pod/${namespace}/${name}`));
    this.runtimes.set(`${namespace}/${name}`, runtime);
    if (!this.store.get(PODS, namespace, name)) this.store.put(PODS, pod);
    void this.backend.started(runtime, pod);
  }

  private deletePod(runtime: PodRuntime): void {
    this.store.remove(PODS, runtime.namespace, runtime.name);
  }

  private deletePodsOf(workload: string): void {
    for (const pod of this.podsOf(workload)) this.deletePod(pod);
  }

  private writePodStatus(key: string): void {
    const runtime = this.runtimes.get(key);
    const [namespace, name] = key.split('/') as [string, string];
    const pod = this.store.get(PODS, namespace, name);
    if (!runtime || !pod) return;
    const containers = (pod.spec as { containers?: IContainer[] }).containers ?? [];
    const images = Object.fromEntries(containers.map((c) => [c.name, c.image ?? '']));
    const view = { namespace, name, uid: pod.metadata.uid ?? '', images, startTime: pod.metadata.creationTimestamp ?? '' };
    const { status, events } = podStatusOf(view, runtime);
    if (JSON.stringify(status) !== JSON.stringify(pod.status)) this.store.put(PODS, { ...pod, status });
    this.recordEvents(pod, events);
  }

  /** Each distinct event once per pod, as the kubelet's first report of it. */
  private recordEvents(pod: StoredObject, events: PodEventSpec[]): void {
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const recorded = this.recordedEvents.get(key) ?? new Set<string>();
    this.recordedEvents.set(key, recorded);
    for (const event of events) {
      const id = `${event.reason}|${event.message}|${event.fieldPath ?? ''}`;
      if (recorded.has(id)) continue;
      recorded.add(id);
      this.store.put(EVENTS, eventObject(pod, event));
    }
  }
}

function podKey(runtime: PodRuntime): string {
  return `${runtime.namespace}/${runtime.name}`;
}

function jobEnded(job: StoredObject): boolean {
  const status = (job.status ?? {}) as { succeeded?: number; failed?: number };
  return Boolean(status.succeeded || status.failed);
}

function ownerOf(workload: StoredObject, hash: string): { apiVersion: string; kind: string; name: string; uid: string; controller: boolean } {
  const uid = workload.metadata.uid ?? '';
  if (workload.kind === 'Deployment') return { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${workload.metadata.name}-${hash}`, uid, controller: true };
  return { apiVersion: workload.apiVersion, kind: workload.kind, name: workload.metadata.name, uid, controller: true };
}

function eventObject(pod: StoredObject, event: PodEventSpec): StoredObject {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${pod.metadata.name}.${randomBytes(8).toString('hex')}`, namespace: pod.metadata.namespace },
    involvedObject: {
      apiVersion: 'v1',
      kind: 'Pod',
      name: pod.metadata.name,
      namespace: pod.metadata.namespace,
      uid: pod.metadata.uid,
      ...(event.fieldPath ? { fieldPath: event.fieldPath } : {}),
    },
    reason: event.reason,
    message: event.message,
    type: event.type,
    source: { component: event.component, ...(event.component === 'kubelet' ? { host: 'fake-worker' } : {}) },
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
    reportingComponent: event.component,
    reportingInstance: event.component === 'kubelet' ? 'fake-worker' : '',
  };
}

