import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../../src/core/errors.js';
import { applyObjects } from '../../../src/kube/apply.js';
import { describeStuck, formatWaiting, rolloutError, waitForRollouts, type RolloutOptions, type RolloutResult, type WaitingReport } from '../../../src/kube/rollout.js';
import type { KubeObject } from '../../../src/kube/types.js';
import { deploymentObject, jobObject, NAMESPACE, namespaceObject, statefulSetObject, useFakeCluster } from './setup.js';

const kube = useFakeCluster();
const FAST: RolloutOptions = { timeoutMs: 10_000, pollIntervalMs: 50, waitingIntervalMs: 200 };

async function rollOut(objects: KubeObject[], options: Partial<RolloutOptions> = {}): Promise<RolloutResult> {
  const all = [namespaceObject(), ...objects];
  await applyObjects(kube.client, all);
  return waitForRollouts(kube.client, all, { ...FAST, ...options });
}

/** What the user reads for the one workload that did not roll out. */
function onlyReason(result: RolloutResult): string {
  if (result.outcome === 'ready') throw new Error('expected the rollout not to finish');
  expect(result.stuck).toHaveLength(1);
  return describeStuck(result.stuck[0]!);
}

describe('waitForRollouts against the fake cluster', () => {
  it('succeeds when every Deployment and StatefulSet is ready and the Job completed', async () => {
    const result = await rollOut([deploymentObject('catalog'), statefulSetObject('postgres', 5432), jobObject('seed')]);

    expect(result.outcome).toBe('ready');
    if (result.outcome === 'ready') {
      expect(result.workloads.map((w) => `${w.kind}/${w.name}`)).toEqual(['Deployment/catalog', 'StatefulSet/postgres', 'Job/seed']);
    }
  });

  it('a Job that completed counts as success on its own', async () => {
    const result = await rollOut([jobObject('seed')]);
    expect(result.outcome).toBe('ready');
  });

  it('waits for all workloads together, telling every few seconds what is still awaited', async () => {
    kube.api.scenario(NAMESPACE, 'catalog', { default: { state: 'starting' } });
    kube.api.scenario(NAMESPACE, 'search', { default: { state: 'starting' } });
    const reports: WaitingReport[] = [];
    const waiting = rollOut([deploymentObject('catalog'), deploymentObject('search', { port: 5002 })], { onWaiting: (r) => reports.push(r) });
    await until(() => reports.length >= 2);
    kube.api.scenario(NAMESPACE, 'catalog', { default: { state: 'ready' } });
    await until(() => reports.at(-1)?.waiting.length === 1);
    kube.api.scenario(NAMESPACE, 'search', { default: { state: 'ready' } });

    expect((await waiting).outcome).toBe('ready');
    expect(formatWaiting(reports[0]!)).toMatch(
      /^still waiting after \d+ s for Deployment ecom\/catalog \(0\/1 available: Running\), Deployment ecom\/search \(0\/1 available: Running\)$/,
    );
    expect(formatWaiting(reports.at(-1)!)).toMatch(/for Deployment ecom\/search \(0\/1 available: Running\)$/);
  });

  it('an image that cannot be pulled fails the rollout with the image and the pull error', async () => {
    kube.api.scenario(NAMESPACE, 'catalog', { default: { state: 'image-pull', message: 'rpc error: code = NotFound desc = manifest unknown' } });
    const result = await rollOut([deploymentObject('catalog', { image: 'ecom/catalog:feedfacecafe' })], { imagePullGraceMs: 0 });

    expect(result.outcome).toBe('failed');
    expect(onlyReason(result)).toMatch(
      /^Deployment ecom\/catalog is not ready \(0\/1\): pod catalog-[a-z0-9]+-[a-z0-9]{5} cannot pull image "ecom\/catalog:feedfacecafe" \(ImagePullBackOff\): Failed to pull image "ecom\/catalog:feedfacecafe": rpc error: code = NotFound desc = manifest unknown$/,
    );
  });

  it('a crash loop is reported with the container, its restarts, exit code and last log lines', async () => {
    const logs = ['{"level":30,"msg":"catalog starting"}', '{"level":60,"msg":"cannot connect to PostgreSQL: connect ECONNREFUSED 10.96.0.12:5432"}'];
    kube.api.scenario(NAMESPACE, 'catalog', { default: { state: 'crash-loop', exitCode: 1, restarts: 4 }, logs: { catalog: logs } });
    const result = await rollOut([deploymentObject('catalog')], { timeoutMs: 800 });

    expect(result.outcome).toBe('timeout');
    const reason = onlyReason(result);
    expect(reason).toMatch(/^Deployment ecom\/catalog is not ready \(0\/1\): container catalog in pod catalog-\S+ keeps crashing \(CrashLoopBackOff, 4 restarts, last exit code 1\); its last log lines:\n/);
    expect(reason.split('\n').slice(1)).toEqual(logs.map((l) => `    ${l}`));
  });

  it('a pod that cannot be scheduled is reported with the scheduler reason', async () => {
    const why = '0/2 nodes are available: 2 Insufficient memory. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.';
    kube.api.scenario(NAMESPACE, 'postgres', { unschedulable: why }, 'StatefulSet');
    const result = await rollOut([statefulSetObject('postgres', 5432)], { timeoutMs: 800 });

    expect(result.outcome).toBe('timeout');
    expect(onlyReason(result)).toBe(`StatefulSet ecom/postgres is not ready (0/1): pod postgres-0 cannot be scheduled: ${why}`);
  });

  it('a failing readiness probe is reported with its last message', async () => {
    kube.api.scenario(NAMESPACE, 'search', { default: { state: 'unhealthy', message: 'Readiness probe failed: HTTP probe failed with statuscode: 500' } });
    const waiting = rollOut([deploymentObject('search', { port: 5002 })], { timeoutMs: 1_500 });
    await new Promise((r) => setTimeout(r, 300));
    const [pod] = kube.api.pods(NAMESPACE, 'search');
    kube.api.pod(NAMESPACE, pod!).setContainer('search', { state: 'unhealthy', message: 'Readiness probe failed: HTTP probe failed with statuscode: 503' });
    const result = await waiting;

    expect(result.outcome).toBe('timeout');
    expect(onlyReason(result)).toBe(`Deployment ecom/search is not ready (0/1): pod ${pod} runs but is not ready; its readiness probe fails: Readiness probe failed: HTTP probe failed with statuscode: 503`);
  });

  it('a failed Job fails the rollout at once, with its pod exit code and log', async () => {
    kube.api.scenario(NAMESPACE, 'seed', { default: { state: 'failed', exitCode: 2 }, logs: { seed: ['seeding 24 products', 'error: relation "products" does not exist'] } }, 'Job');
    const result = await rollOut([jobObject('seed')], { timeoutMs: 20_000 });

    expect(result.outcome).toBe('failed');
    expect(result.elapsedMs).toBeLessThan(5_000);
    expect(onlyReason(result)).toMatch(
      /^Job ecom\/seed: the Job failed \(BackoffLimitExceeded\): Job has reached the specified backoff limit: container seed in pod seed-[a-z0-9]{5} exited with code 2; its last log lines:\n {4}seeding 24 products\n {4}error: relation "products" does not exist$/,
    );
  });

  it('a rollout that timed out becomes a TimeoutError (exit 124) naming the first reason', async () => {
    kube.api.scenario(NAMESPACE, 'postgres', { unschedulable: '0/2 nodes are available: 2 Insufficient cpu.' }, 'StatefulSet');
    const result = await rollOut([statefulSetObject('postgres', 5432), deploymentObject('catalog', { image: 'ecom/catalog:0123456789ab' })], { timeoutMs: 600 });
    if (result.outcome === 'ready') throw new Error('expected a timeout');

    const error = rolloutError(result, 600);
    expect(error.exitCode).toBe(ExitCode.timeout);
    expect(error.message).toBe('rollout not finished after 1 s: StatefulSet ecom/postgres is not ready (0/1): pod postgres-0 cannot be scheduled: 0/2 nodes are available: 2 Insufficient cpu.');
    expect(result.ready.map((w) => w.name)).toEqual(['catalog']);
  });
});

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
