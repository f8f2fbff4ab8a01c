/**
 * Whether a workload has rolled out, by the rules `kubectl rollout status` applies:
 * the controller has seen the newest spec, every replica is updated and available
 * and no old one is left; a Job is done when Complete and has failed when Failed
 * (docs/architecture.md, "Rollouts").
 */
import type { V1Deployment, V1Job, V1StatefulSet } from '@kubernetes/client-node';
import { selectorString } from './pods.js';
import type { KubeClient, KubeObject } from './types.js';

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'Job';
export const WORKLOAD_KINDS: readonly WorkloadKind[] = ['Deployment', 'StatefulSet', 'Job'];

export interface WorkloadRef {
  kind: WorkloadKind;
  namespace: string;
  name: string;
}

export type Progress =
  | { state: 'done'; ready: number; desired: number }
  | { state: 'waiting'; ready: number; desired: number; detail: string }
  | { state: 'failed'; ready: number; desired: number; detail: string };

export interface WorkloadReading {
  progress: Progress;
  /** Selects the workload's pods; empty when the workload is gone. */
  selector: string;
}

export function isWorkload(object: KubeObject): boolean {
  return (WORKLOAD_KINDS as readonly string[]).includes(object.kind);
}

export function workloadRef(object: KubeObject, defaultNamespace = 'default'): WorkloadRef {
  return { kind: object.kind as WorkloadKind, namespace: object.metadata.namespace ?? defaultNamespace, name: object.metadata.name };
}

export function describeWorkload(ref: WorkloadRef): string {
  return `${ref.kind} ${ref.namespace}/${ref.name}`;
}

export async function readWorkload(client: KubeClient, ref: WorkloadRef): Promise<WorkloadReading> {
  const gone: WorkloadReading = { progress: { state: 'failed', ready: 0, desired: 0, detail: 'it does not exist' }, selector: '' };
  switch (ref.kind) {
    case 'Deployment': {
      const d = await client.read('deployments', ref.namespace, ref.name);
      return d ? { progress: deploymentProgress(d), selector: selectorString(d.spec?.selector) } : gone;
    }
    case 'StatefulSet': {
      const s = await client.read('statefulsets', ref.namespace, ref.name);
      return s ? { progress: statefulSetProgress(s), selector: selectorString(s.spec?.selector) } : gone;
    }
    case 'Job': {
      const j = await client.read('jobs', ref.namespace, ref.name);
      return j ? { progress: jobProgress(j), selector: selectorString(j.spec?.selector) } : gone;
    }
  }
}

export function deploymentProgress(d: V1Deployment): Progress {
  const desired = d.spec?.replicas ?? 1;
  const status = d.status ?? {};
  const ready = status.readyReplicas ?? 0;
  const waiting = (detail: string): Progress => ({ state: 'waiting', ready, desired, detail });
  if ((d.metadata?.generation ?? 0) > (status.observedGeneration ?? 0)) return waiting('waiting for the controller to see the new spec');
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') return { state: 'failed', ready, desired, detail: progressing.message ?? 'progress deadline exceeded' };
  const updated = status.updatedReplicas ?? 0;
  if (updated < desired) return waiting(`${updated}/${desired} updated`);
  const old = (status.replicas ?? 0) - updated;
  if (old > 0) return waiting(`${old} old replica${old === 1 ? '' : 's'} still terminating`);
  const available = status.availableReplicas ?? 0;
  if (available < updated) return waiting(`${available}/${desired} available`);
  return { state: 'done', ready, desired };
}

export function statefulSetProgress(s: V1StatefulSet): Progress {
  const desired = s.spec?.replicas ?? 1;
  const status = s.status;
  const ready = status?.readyReplicas ?? 0;
  const waiting = (detail: string): Progress => ({ state: 'waiting', ready, desired, detail });
  if (!status || (s.metadata?.generation ?? 0) > (status.observedGeneration ?? 0)) return waiting('waiting for the controller to see the new spec');
  if (ready < desired) return waiting(`${ready}/${desired} ready`);
  if ((s.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate' && status.updateRevision !== status.currentRevision) {
    return waiting(`${status.updatedReplicas ?? 0}/${desired} updated`);
  }
  return { state: 'done', ready, desired };
}

export function jobProgress(j: V1Job): Progress {
  const desired = j.spec?.completions ?? 1;
  const ready = j.status?.succeeded ?? 0;
  const condition = (type: string) => j.status?.conditions?.find((c) => c.type === type && c.status === 'True');
  if (condition('Complete')) return { state: 'done', ready, desired };
  const failed = condition('Failed');
  if (failed) return { state: 'failed', ready, desired, detail: `the Job failed (${failed.reason ?? 'Failed'}): ${failed.message ?? ''}`.trimEnd() };
  return { state: 'waiting', ready, desired, detail: `${ready}/${desired} complete` };
}
