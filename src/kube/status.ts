/**
 * What `ecom status` shows of a cluster (docs/architecture.md, "Kubernetes layer"):
 * each workload's ready/desired and restarts, its pods' phase and reason (as
 * kubectl's STATUS column), and each HPA's replicas and current/target metrics
 * (`<unknown>` current when no metrics server reports them). One list per kind.
 */
import type { V1LabelSelector, V1Pod, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { isPodReady, podReason, podRestarts } from './pods.js';
import type { WorkloadKind } from './progress.js';
import type { KubeClient, ListOptions } from './types.js';

export interface PodStatusRow {
  name: string;
  phase: string;
  /** Running, CrashLoopBackOff, ImagePullBackOff, Unschedulable, Completed, Terminating... */
  reason: string;
  ready: boolean;
  restarts: number;
}

export interface WorkloadStatusRow {
  kind: WorkloadKind;
  namespace: string;
  name: string;
  /** Ready replicas (succeeded completions for a Job). */
  ready: number;
  desired: number;
  restarts: number;
  pods: PodStatusRow[];
}

export interface HpaMetricRow {
  /** `cpu`, `memory` */
  name: string;
  /** Percent of the request for Utilization targets; undefined until metrics are reported. */
  current?: number;
  target?: number;
}

export interface HpaStatusRow {
  namespace: string;
  name: string;
  /** `Deployment/catalog` */
  target: string;
  minReplicas: number;
  maxReplicas: number;
  currentReplicas: number;
  desiredReplicas: number;
  metrics: HpaMetricRow[];
}

export interface ClusterStatus {
  workloads: WorkloadStatusRow[];
  hpas: HpaStatusRow[];
}

/** Status of the workloads and HPAs matching `options` (a namespace, ecom's label). */
export async function readClusterStatus(client: KubeClient, options: Pick<ListOptions, 'namespace' | 'labelSelector'> = {}): Promise<ClusterStatus> {
  const [deployments, statefulSets, jobs, hpas, pods] = await Promise.all([
    client.list('deployments', options),
    client.list('statefulsets', options),
    client.list('jobs', options),
    client.list('horizontalpodautoscalers', options),
    client.list('pods', { namespace: options.namespace }),
  ]);
  const row = (kind: WorkloadKind, metadata: { name?: string; namespace?: string } | undefined, selector: V1LabelSelector | undefined, ready: number, desired: number): WorkloadStatusRow => {
    const namespace = metadata?.namespace ?? '';
    const owned = pods.items.filter((p) => p.metadata?.namespace === namespace && matchesSelector(p.metadata?.labels, selector)).map(podRow);
    return { kind, namespace, name: metadata?.name ?? '', ready, desired, restarts: owned.reduce((sum, p) => sum + p.restarts, 0), pods: owned };
  };
  const workloads = [
    ...deployments.items.map((d) => row('Deployment', d.metadata, d.spec?.selector, d.status?.readyReplicas ?? 0, d.spec?.replicas ?? 1)),
    ...statefulSets.items.map((s) => row('StatefulSet', s.metadata, s.spec?.selector, s.status?.readyReplicas ?? 0, s.spec?.replicas ?? 1)),
    ...jobs.items.map((j) => row('Job', j.metadata, j.spec?.selector, j.status?.succeeded ?? 0, j.spec?.completions ?? 1)),
  ];
  return { workloads, hpas: hpas.items.map(hpaRow) };
}

function podRow(pod: V1Pod): PodStatusRow {
  return { name: pod.metadata?.name ?? '', phase: pod.status?.phase ?? 'Unknown', reason: podReason(pod), ready: isPodReady(pod), restarts: podRestarts(pod) };
}

function hpaRow(hpa: V2HorizontalPodAutoscaler): HpaStatusRow {
  const current = hpa.status?.currentMetrics ?? [];
  const metrics = (hpa.spec?.metrics ?? [])
    .filter((m) => m.type === 'Resource' && m.resource)
    .map((m) => {
      const name = m.resource!.name;
      const reported = current.find((c) => c.type === 'Resource' && c.resource?.name === name)?.resource?.current.averageUtilization;
      return { name, current: reported, target: m.resource!.target.averageUtilization };
    });
  return {
    namespace: hpa.metadata?.namespace ?? '',
    name: hpa.metadata?.name ?? '',
    target: `${hpa.spec?.scaleTargetRef.kind}/${hpa.spec?.scaleTargetRef.name}`,
    minReplicas: hpa.spec?.minReplicas ?? 1,
    maxReplicas: hpa.spec?.maxReplicas ?? 1,
    currentReplicas: hpa.status?.currentReplicas ?? 0,
    desiredReplicas: hpa.status?.desiredReplicas ?? 0,
    metrics,
  };
}

/** `cpu: 12%/70%`, or `cpu: <unknown>/70%` as kubectl shows a metric not reported yet. */
export function formatHpaMetrics(row: HpaStatusRow): string {
  const percent = (n: number | undefined) => (n === undefined ? '<unknown>' : `${n}%`);
  return row.metrics.map((m) => `${m.name}: ${percent(m.current)}/${percent(m.target)}`).join(', ');
}

/** Whether labels satisfy a structured selector (matchLabels and matchExpressions); no selector selects nothing. */
export function matchesSelector(labels: Record<string, string> | undefined, selector: V1LabelSelector | undefined): boolean {
  if (!selector || (!selector.matchLabels && !selector.matchExpressions)) return false;
  const have = labels ?? {};
  const labelsMatch = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => have[k] === v);
  return (
    labelsMatch &&
    (selector.matchExpressions ?? []).every((e) => {
      const value = have[e.key];
      switch (e.operator) {
        case 'In':
          return value !== undefined && (e.values ?? []).includes(value);
        case 'NotIn':
          return value === undefined || !(e.values ?? []).includes(value);
        case 'Exists':
          return value !== undefined;
        case 'DoesNotExist':
          return value === undefined;
        default:
          return false;
      }
    })
  );
}
