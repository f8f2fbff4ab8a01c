import { describe, expect, it } from 'vitest';
import { applyObjects } from '../../../src/kube/apply.js';
import { formatPodLogEvent, workloadLogs, type PodLogEvent, type WorkloadLogOptions } from '../../../src/kube/logs.js';
import { waitForRollouts } from '../../../src/kube/rollout.js';
import { deploymentObject, NAMESPACE, namespaceObject, useFakeCluster } from './setup.js';

const kube = useFakeCluster();
const CATALOG: Pick<WorkloadLogOptions, 'namespace' | 'workload'> = { namespace: NAMESPACE, workload: { kind: 'Deployment', name: 'catalog' } };

/** Two ready catalog pods, each having written its own lines in turn: a1, b1, a2, b2. */
async function twoPodsWithLines(): Promise<[string, string]> {
  kube.api.scenario(NAMESPACE, 'catalog', { logs: { catalog: ['booting'] } });
  const objects = [namespaceObject(), deploymentObject('catalog', { replicas: 2 })];
  await applyObjects(kube.client, objects);
  expect((await waitForRollouts(kube.client, objects, { timeoutMs: 10_000, pollIntervalMs: 50 })).outcome).toBe('ready');
  const [a, b] = kube.api.pods(NAMESPACE, 'catalog') as [string, string];
  kube.api.pod(NAMESPACE, a).appendLog('catalog', ['a1']);
  kube.api.pod(NAMESPACE, b).appendLog('catalog', ['b1']);
  kube.api.pod(NAMESPACE, a).appendLog('catalog', ['a2']);
  kube.api.pod(NAMESPACE, b).appendLog('catalog', ['b2']);
  return [a, b];
}

async function collect(options: WorkloadLogOptions): Promise<string[]> {
  const lines: string[] = [];
  for await (const event of workloadLogs(kube.client, options)) lines.push(formatPodLogEvent(event));
  return lines;
}

async function until(condition: () => boolean, what: string, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('workloadLogs: every pod of a deployment, merged', () => {
  it('merges the pods backlogs in time order, each line prefixed with its pod', async () => {
    const [a, b] = await twoPodsWithLines();
    const lines = await collect({ ...CATALOG, follow: false });

    expect(lines.filter((l) => !l.endsWith('booting'))).toEqual([`[${a}] a1`, `[${b}] b1`, `[${a}] a2`, `[${b}] b2`]);
    expect(await collect({ ...CATALOG, follow: false, tailLines: 1 })).toEqual([`[${a}] a2`, `[${b}] b2`]);
  });

  it('says which pod could not be read instead of leaving its lines out silently', async () => {
    const [a, b] = await twoPodsWithLines();
    // The API refuses one pod's log (as it does for a pod that went between the list and the read).
    const client = Object.create(kube.client) as typeof kube.client;
    client.podLog = (namespace, pod, options) => (pod === a ? Promise.reject(new Error(`pods "${a}" not found`)) : kube.client.podLog(namespace, pod, options));
    const lines: string[] = [];
    for await (const event of workloadLogs(client, { ...CATALOG, follow: false, tailLines: 1 })) lines.push(formatPodLogEvent(event));

    expect(lines).toEqual([`ecom: could not read the log of pod ${a}: pods "${a}" not found`, `[${b}] b2`]);
  });

  it('follows across a pod replacement and a container restart, saying so in the stream', async () => {
    const [a, b] = await twoPodsWithLines();
    const abort = new AbortController();
    const seen: PodLogEvent[] = [];
    const lines = () => seen.map(formatPodLogEvent);
    const reading = (async () => {
      for await (const event of workloadLogs(kube.client, { ...CATALOG, follow: true, tailLines: 1, signal: abort.signal, retryMs: 50 })) seen.push(event);
    })();
    await until(() => lines().includes(`[${b}] b2`), 'the backlog');
    kube.api.pod(NAMESPACE, a).appendLog('catalog', ['a3']);
    await until(() => lines().includes(`[${a}] a3`), 'a live line');

    const c = kube.api.replacePod(NAMESPACE, a);
    await until(() => lines().includes(`[${c}] booting`), 'the new pod to be followed');
    kube.api.pod(NAMESPACE, c).appendLog('catalog', ['c1']);
    kube.api.pod(NAMESPACE, b).restartContainer('catalog', ['b after restart']);
    await until(() => lines().includes(`[${c}] c1`) && lines().includes(`[${b}] b after restart`), 'lines after the replacement and the restart');
    abort.abort();
    await reading;

    const out = lines();
    expect(out.slice(0, 3)).toEqual([`[${a}] a2`, `[${b}] b2`, `[${a}] a3`]);
    expect(out).toContain(`ecom: pod ${a} is gone`);
    const following = out.indexOf(`ecom: now following pod ${c} (replaced ${a})`);
    expect(following).toBeGreaterThan(out.indexOf(`ecom: pod ${a} is gone`));
    expect(out.indexOf(`[${c}] booting`)).toBeGreaterThan(following);
    const restarted = out.indexOf(`ecom: pod ${b}: container catalog restarted (restart 1); following its new run`);
    expect(restarted).toBeGreaterThan(-1);
    expect(out.indexOf(`[${b}] b after restart`)).toBeGreaterThan(restarted);
    // Nothing was read twice across the re-opened streams.
    expect(new Set(out).size).toBe(out.length);
    expect(seen.find((e) => e.kind === 'line' && e.line === 'c1')).toMatchObject({ kind: 'line', pod: c, container: 'catalog', time: expect.any(Date) });
  });
});
