/**
 * Waiting for applied workloads to roll out, all at once, with a deadline
 * (docs/architecture.md, "Rollouts"). Every few seconds the caller hears what is
 * still awaited (plain mode prints it: a CI log never goes silent). A completed Job
 * counts as done; a failed Job, an exceeded progress deadline or an image that cannot
 * be pulled for a while ends the wait early. Whatever did not finish comes back with
 * the reason from its pods and events. Expected outcomes are values, not exceptions.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { EcomError, ExitCode, TimeoutError } from '../core/errors.js';
import { pollUntil, systemClock, type Clock } from '../core/poll.js';
import { describeDiagnosis, diagnosePods, type Diagnosis } from './diagnose.js';
import { isPodReady, isTerminating, podReason } from './pods.js';
import { describeWorkload, isWorkload, readWorkload, workloadRef, type WorkloadReading, type WorkloadRef } from './progress.js';
import type { KubeClient, KubeObject } from './types.js';

export const DEFAULT_WAITING_INTERVAL_MS = 5_000;
export const DEFAULT_ROLLOUT_POLL_MS = 1_000;
/** An image pull error this old is not a registry catching up: the rollout fails. */
export const DEFAULT_IMAGE_PULL_GRACE_MS = 60_000;
const IMAGE_PULL_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);

export interface WaitingWorkload {
  workload: WorkloadRef;
  ready: number;
  desired: number;
  /** "0/1 available: ImagePullBackOff" */
  detail: string;
}

export interface WaitingReport {
  elapsedMs: number;
  waiting: WaitingWorkload[];
}

export interface RolloutOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Hears what is still awaited, every `waitingIntervalMs`. */
  onWaiting?: (report: WaitingReport) => void;
  waitingIntervalMs?: number;
  pollIntervalMs?: number;
  imagePullGraceMs?: number;
  /** For objects without a namespace (the context's default). */
  defaultNamespace?: string;
  clock?: Clock;
}

export interface StuckWorkload {
  workload: WorkloadRef;
  ready: number;
  desired: number;
  /** Set when the workload failed for good (a failed Job, an exceeded progress deadline). */
  failure?: string;
  diagnosis: Diagnosis;
}

export type RolloutResult =
  | { outcome: 'ready'; workloads: WorkloadRef[]; elapsedMs: number }
  | { outcome: 'failed' | 'timeout'; stuck: StuckWorkload[]; ready: WorkloadRef[]; elapsedMs: number };

interface Pending {
  ref: WorkloadRef;
  reading?: WorkloadReading;
  pullErrorSince?: number;
}

export async function waitForRollouts(client: KubeClient, objects: KubeObject[], options: RolloutOptions): Promise<RolloutResult> {
  const clock = options.clock ?? systemClock;
  const refs = objects.filter(isWorkload).map((o) => workloadRef(o, options.defaultNamespace));
  const started = clock.now();
  const interval = options.waitingIntervalMs ?? DEFAULT_WAITING_INTERVAL_MS;
  const pending = new Map<string, Pending>(refs.map((ref) => [describeWorkload(ref), { ref }]));
  const ready: WorkloadRef[] = [];
  const failed: StuckWorkload[] = [];
  let nextReport = started + interval;

  const check = async (): Promise<true | undefined> => {
    await Promise.all(
      [...pending].map(async ([key, entry]) => {
        entry.reading = await readWorkload(client, entry.ref);
        if (entry.reading.progress.state === 'waiting') return;
        pending.delete(key);
        if (entry.reading.progress.state === 'done') ready.push(entry.ref);
        else failed.push(await diagnoseStuck(client, entry.ref, entry.reading));
      }),
    );
    if (pending.size === 0 || failed.length > 0) return true;
    if (clock.now() < nextReport) return undefined;
    nextReport = clock.now() + interval;
    const report = await waitingReport(client, [...pending.values()], clock.now() - started);
    options.onWaiting?.(report);
    await failLastingPullErrors(client, pending, failed, clock.now(), options.imagePullGraceMs ?? DEFAULT_IMAGE_PULL_GRACE_MS);
    return failed.length > 0 ? true : undefined;
  };

  try {
    await pollUntil(check, { what: 'rollouts', timeoutMs: options.timeoutMs, intervalMs: options.pollIntervalMs ?? DEFAULT_ROLLOUT_POLL_MS, signal: options.signal, clock });
  } catch (err) {
    if (!(err instanceof TimeoutError)) throw err;
  }
  const elapsedMs = clock.now() - started;
  if (failed.length > 0) return { outcome: 'failed', stuck: failed, ready, elapsedMs };
  if (pending.size === 0) return { outcome: 'ready', workloads: refs, elapsedMs };
  const stuck = await Promise.all([...pending.values()].map((p) => diagnoseStuck(client, p.ref, p.reading)));
  return { outcome: 'timeout', stuck, ready, elapsedMs };
}

async function podsOf(client: KubeClient, ref: WorkloadRef, selector: string | undefined): Promise<V1Pod[]> {
  if (!selector) return [];
  return (await client.list('pods', { namespace: ref.namespace, labelSelector: selector })).items;
}

async function diagnoseStuck(client: KubeClient, ref: WorkloadRef, reading: WorkloadReading | undefined): Promise<StuckWorkload> {
  const progress = reading?.progress;
  const diagnosis = await diagnosePods(client, await podsOf(client, ref, reading?.selector));
  const failure = progress?.state === 'failed' ? progress.detail : undefined;
  return { workload: ref, ready: progress?.ready ?? 0, desired: progress?.desired ?? 0, ...(failure ? { failure } : {}), diagnosis };
}

/** What each pending workload waits for, with its pods' states (ImagePullBackOff, Pending...). */
async function waitingReport(client: KubeClient, pending: Pending[], elapsedMs: number): Promise<WaitingReport> {
  const waiting = await Promise.all(
    pending.map(async (entry) => {
      const progress = entry.reading?.progress;
      const pods = await podsOf(client, entry.ref, entry.reading?.selector);
      const reasons = [...new Set(pods.filter((p) => !isTerminating(p) && !isPodReady(p)).map(podReason))];
      const detail = progress?.state === 'waiting' ? progress.detail : 'waiting';
      return { workload: entry.ref, ready: progress?.ready ?? 0, desired: progress?.desired ?? 0, detail: reasons.length > 0 ? `${detail}: ${reasons.join(', ')}` : detail };
    }),
  );
  return { elapsedMs, waiting };
}

async function failLastingPullErrors(client: KubeClient, pending: Map<string, Pending>, failed: StuckWorkload[], now: number, graceMs: number): Promise<void> {
  for (const [key, entry] of pending) {
    const pods = await podsOf(client, entry.ref, entry.reading?.selector);
    const pulling = pods.some((p) => !isTerminating(p) && IMAGE_PULL_REASONS.has(podReason(p)));
    if (!pulling) {
      entry.pullErrorSince = undefined;
      continue;
    }
    entry.pullErrorSince ??= now;
    if (now - entry.pullErrorSince < graceMs) continue;
    pending.delete(key);
    failed.push(await diagnoseStuck(client, entry.ref, entry.reading));
  }
}

/** "Deployment ecom/catalog (0/1 available: ImagePullBackOff), Job ecom/seed (0/1 complete)" */
export function formatWaiting(report: WaitingReport): string {
  const seconds = Math.round(report.elapsedMs / 1_000);
  return `still waiting after ${seconds} s for ${report.waiting.map((w) => `${describeWorkload(w.workload)} (${w.detail})`).join(', ')}`;
}

/** What the user reads for one workload that did not roll out (may span lines: log lines follow). */
export function describeStuck(stuck: StuckWorkload): string {
  const name = describeWorkload(stuck.workload);
  const head = stuck.failure ? `${name}: ${stuck.failure}` : `${name} is not ready (${stuck.ready}/${stuck.desired})`;
  return `${head}: ${describeDiagnosis(stuck.diagnosis)}`;
}

/** The error for a rollout that did not finish: the first reason in the message, all of them in the detail. */
export function rolloutError(result: Exclude<RolloutResult, { outcome: 'ready' }>, timeoutMs: number): EcomError {
  const [first] = result.stuck;
  const lines = result.stuck.map(describeStuck);
  const more = result.stuck.length > 1 ? ` (and ${result.stuck.length - 1} more)` : '';
  const summary = `${first ? describeStuck(first).split('\n')[0] : 'rollout did not finish'}${more}`;
  const hint = 'fix the cause above and run `ecom up` again; `ecom status` and `ecom logs <service>` show more';
  if (result.outcome === 'timeout') {
    return new TimeoutError(`rollout not finished after ${Math.round(timeoutMs / 1_000)} s: ${summary}`, hint, lines.join('\n'));
  }
  return new EcomError(`rollout failed: ${summary}`, hint, ExitCode.failed, lines.join('\n'));
}
