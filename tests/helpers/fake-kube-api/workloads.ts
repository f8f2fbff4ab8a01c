/**
 * The controllers' part of the fake cluster, reduced to what ecom observes: which pods
 * a Deployment, StatefulSet or Job wants (names, labels, template hash), and the
 * status each reports from its pods, with the same fields and conditions
 * `kubectl rollout status` reads.
 */
import { createHash, randomInt } from 'node:crypto';
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec';
import type { StoredObject } from './store.js';

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'Job';
export const WORKLOAD_KINDS: WorkloadKind[] = ['Deployment', 'StatefulSet', 'Job'];

export interface WorkloadSpec {
  replicas?: number;
  template?: IPodTemplateSpec;
  selector?: { matchLabels?: Record<string, string> };
}

export function specOf(workload: StoredObject): WorkloadSpec {
  return (workload.spec ?? {}) as WorkloadSpec;
}

/** `Deployment/ecom/catalog`: how the fake names a workload internally. */
export function workloadKey(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

export function templateHash(template: unknown): string {
  return createHash('sha256').update(JSON.stringify(template ?? {})).digest('hex').slice(0, 10);
}

const NAME_SUFFIX_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

/** Five characters as the real name generator makes them. */
export function randomSuffix(): string {
  return Array.from({ length: 5 }, () => NAME_SUFFIX_CHARS[randomInt(NAME_SUFFIX_CHARS.length)]).join('');
}

/** The pod a workload wants next: its name and the labels the controller adds. */
export function nextPodIdentity(workload: StoredObject, hash: string, existingNames: Set<string>): { name: string; labels: Record<string, string> } | undefined {
  const { name, uid } = workload.metadata;
  switch (workload.kind) {
    case 'Deployment':
      return { name: `${name}-${hash}-${randomSuffix()}`, labels: { 'pod-template-hash': hash } };
    case 'StatefulSet': {
      const replicas = specOf(workload).replicas ?? 1;
      for (let i = 0; i < replicas; i++) {
        const pod = `${name}-${i}`;
        if (!existingNames.has(pod)) return { name: pod, labels: { 'controller-revision-hash': `${name}-${hash}`, 'statefulset.kubernetes.io/pod-name': pod, 'apps.kubernetes.io/pod-index': String(i) } };
      }
      return undefined;
    }
    default:
      return {
        name: `${name}-${randomSuffix()}`,
        labels: { 'batch.kubernetes.io/controller-uid': uid ?? '', 'batch.kubernetes.io/job-name': name, 'controller-uid': uid ?? '', 'job-name': name },
      };
  }
}

/** What the API server fills in when a Job is created: its selector and the pod labels it selects. */
export function defaultJob(job: StoredObject): void {
  const spec = (job.spec ??= {}) as WorkloadSpec & { backoffLimit?: number; completions?: number };
  const uid = job.metadata.uid ?? '';
  spec.selector ??= { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
  const template = (spec.template ??= {});
  const metadata = (template.metadata ??= {});
  metadata.labels = { ...metadata.labels, 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': job.metadata.name, 'controller-uid': uid, 'job-name': job.metadata.name };
  spec.backoffLimit ??= 6;
  spec.completions ??= 1;
}

interface PodSummary {
  hash: string;
  ready: boolean;
  phase: string;
}

/** The status the workload's controller would write, given its pods. */
export function workloadStatus(workload: StoredObject, pods: PodSummary[], currentHash: string): Record<string, unknown> {
  const generation = workload.metadata.generation ?? 1;
  const desired = specOf(workload).replicas ?? 1;
  const ready = pods.filter((p) => p.ready).length;
  const updated = pods.filter((p) => p.hash === currentHash).length;
  const name = workload.metadata.name;
  if (workload.kind === 'Job') return jobStatus(pods, workload);
  if (workload.kind === 'StatefulSet') {
    const revision = `${name}-${currentHash}`;
    return {
      observedGeneration: generation,
      replicas: pods.length,
      readyReplicas: ready,
      availableReplicas: ready,
      currentReplicas: updated,
      updatedReplicas: updated,
      currentRevision: revision,
      updateRevision: revision,
      collisionCount: 0,
    };
  }
  const complete = ready >= desired && updated >= desired && pods.length === desired;
  const rs = `${name}-${currentHash}`;
  return {
    observedGeneration: generation,
    replicas: pods.length,
    updatedReplicas: updated,
    readyReplicas: ready,
    availableReplicas: ready,
    ...(pods.length - ready > 0 ? { unavailableReplicas: pods.length - ready } : {}),
    conditions: [
      ready >= desired
        ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
        : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' },
      complete
        ? { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rs}" has successfully progressed.` }
        : { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${rs}" is progressing.` },
    ],
  };
}

function jobStatus(pods: PodSummary[], job: StoredObject): Record<string, unknown> {
  const succeeded = pods.filter((p) => p.phase === 'Succeeded').length;
  const failed = pods.filter((p) => p.phase === 'Failed').length;
  const active = pods.length - succeeded - failed;
  const startTime = job.metadata.creationTimestamp;
  // Once complete, a Job keeps its completion time (a new one on every write would never settle).
  const completed = (job.status as { completionTime?: string } | undefined)?.completionTime;
  const now = completed ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const base = { startTime, active: active || undefined, ready: pods.filter((p) => p.ready).length, succeeded: succeeded || undefined, failed: failed || undefined, terminating: 0 };
  if (succeeded > 0) {
    return {
      ...base,
      completionTime: now,
      conditions: [
        { type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' },
        { type: 'Complete', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' },
      ],
    };
  }
  if (failed > 0) {
    return {
      ...base,
      conditions: [
        { type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' },
        { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' },
      ],
    };
  }
  return base;
}
