/**
 * clusterLogs against the in-test API server with the real client: every pod of each
 * service's Deployment, merged by the kubelet's timestamps across services, each line
 * with its pod; following across a pod replacement, saying so in the stream.
 */
import { describe, expect, it } from 'vitest';
import type { LogSource } from '../../../src/core/log-merge.js';
import { clusterLogs } from '../../../src/runtime/cluster/logs.js';
import type { LogLine, LogOptions } from '../../../src/runtime/types.js';
import { eventually } from '../../helpers/services.js';
import { applyAndRollOut, deploymentObject, namespaceObject, SERVICES_NS, statefulSetObject, useFakeCluster } from './setup.js';

const cluster = useFakeCluster();

const pino = (msg: string) => JSON.stringify({ level: 30, msg });
/** `catalog catalog-…-x2k4p c1` for a line, `catalog notice: …` for ecom's own. */
function show(line: LogLine): string {
  const record = JSON.parse(line.line) as { msg: string; ecom?: string };
  return record.ecom ? `${line.service} notice: ${record.msg}` : `${line.service} ${line.pod} ${record.msg}`;
}

/** catalog with two pods and order with one, each having written a start line and then, in turn: c1 (pod a), o1, c2 (pod b), o2. */
async function catalogAndOrder(): Promise<{ a: string; b: string; o: string }> {
  for (const service of ['catalog', 'order'] as const) cluster.api.scenario(SERVICES_NS, service, { logs: { [service]: [pino('started')] } });
  await applyAndRollOut(cluster.client, [namespaceObject(SERVICES_NS), deploymentObject('catalog', 5001, { replicas: 2 }), deploymentObject('order', 5003)]);
  const [a, b] = cluster.api.pods(SERVICES_NS, 'catalog') as [string, string];
  const [o] = cluster.api.pods(SERVICES_NS, 'order') as [string];
  // Services are merged by their lines' times in milliseconds (as pino writes them): a line a millisecond apart.
  const append = async (pod: string, container: string, msg: string) => {
    cluster.api.pod(SERVICES_NS, pod).appendLog(container, [pino(msg)]);
    await new Promise((resolve) => setTimeout(resolve, 2));
  };
  await append(a, 'catalog', 'c1');
  await append(o, 'order', 'o1');
  await append(b, 'catalog', 'c2');
  await append(o, 'order', 'o2');
  return { a, b, o };
}

async function collect(options: Partial<LogOptions> & { services: LogSource[] }): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of clusterLogs(cluster.client, { follow: false, ...options })) lines.push(show(line));
  return lines;
}

describe('clusterLogs', () => {
  it("--level keeps lines at that level or above, --tail counting only those; a dependency's StatefulSet; no supervisor pod", async () => {
    const { a } = await catalogAndOrder();
    cluster.api.pod(SERVICES_NS, a).appendLog('catalog', [JSON.stringify({ level: 50, msg: 'e1' }), JSON.stringify({ level: 20, msg: 'd1' }), JSON.stringify({ level: 40, msg: 'w1' })]);
    expect(await collect({ services: ['catalog'], level: 'warn' })).toEqual([`catalog ${a} e1`, `catalog ${a} w1`]);
    expect(await collect({ services: ['catalog'], level: 'error', tail: 1 })).toEqual([`catalog ${a} e1`]);

    cluster.api.scenario('database', 'postgres', { logs: { postgres: ['2026-12-01 08:00:00.000 UTC [1] LOG:  ready', '2026-12-01 08:00:01.000 UTC [2] ERROR:  boom'] } }, 'StatefulSet');
    await applyAndRollOut(cluster.client, [namespaceObject('database'), statefulSetObject('postgres', 'database', 5432)]);
    const postgres: LogLine[] = [];
    for await (const line of clusterLogs(cluster.client, { services: ['postgres'], follow: false, level: 'error' })) postgres.push(line);
    expect(postgres.map((l) => [l.service, l.pod?.startsWith('postgres-'), l.line])).toEqual([['postgres', true, '2026-12-01 08:00:01.000 UTC [2] ERROR:  boom']]);
    expect(await collect({ services: ['supervisor'] })).toEqual([
      'supervisor notice: no logs for supervisor: the cluster runtimes run no supervisor; the port-forwarder logs to <state>/logs/forwarder.log',
    ]);
  });

  it('merges every pod of two services in time order, each line with its pod; --tail per service; a missing Deployment is said', async () => {
    const { a, b, o } = await catalogAndOrder();

    const all = await collect({ services: ['catalog', 'order'] });
    expect(all.filter((l) => !l.endsWith(' started'))).toEqual([`catalog ${a} c1`, `order ${o} o1`, `catalog ${b} c2`, `order ${o} o2`]);
    expect(all.filter((l) => l.endsWith(' started')).sort()).toEqual([`catalog ${a} started`, `catalog ${b} started`, `order ${o} started`].sort());

    expect(await collect({ services: ['catalog', 'order'], tail: 1 })).toEqual([`catalog ${b} c2`, `order ${o} o2`]);
    // The notice has no time of its own: it comes first.
    expect(await collect({ services: ['order', 'search'], tail: 1 })).toEqual([
      'search notice: no logs for search: Deployment ecommerce/search does not exist',
      `order ${o} o2`,
    ]);
    expect(await collect({ services: ['catalog'], since: new Date(Date.now() + 60_000) })).toEqual([]);
  });

  it('follows across a pod replacement, saying so, with no line lost or shown twice', async () => {
    const { a, b, o } = await catalogAndOrder();
    const stop = new AbortController();
    const seen: string[] = [];
    const reading = (async () => {
      for await (const line of clusterLogs(cluster.client, { services: ['catalog', 'order'], follow: true, tail: 1, signal: stop.signal })) seen.push(show(line));
    })();
    await eventually(() => seen.length >= 2 || undefined, 5_000, 'the backlog');
    cluster.api.pod(SERVICES_NS, a).appendLog('catalog', [pino('c3')]);
    cluster.api.pod(SERVICES_NS, o).appendLog('order', [pino('o3')]);
    await eventually(() => (seen.includes(`catalog ${a} c3`) && seen.includes(`order ${o} o3`)) || undefined, 8_000, 'live lines of both services');

    const c = cluster.api.replacePod(SERVICES_NS, a);
    await eventually(() => seen.includes(`catalog ${c} started`) || undefined, 8_000, 'the new pod to be followed');
    cluster.api.pod(SERVICES_NS, c).appendLog('catalog', [pino('c4')]);
    await eventually(() => seen.includes(`catalog ${c} c4`) || undefined, 8_000, 'a line of the new pod');
    stop.abort();
    await reading;

    expect(seen.slice(0, 2)).toEqual([`catalog ${b} c2`, `order ${o} o2`]);
    const gone = seen.indexOf(`catalog notice: pod ${a} is gone`);
    const following = seen.indexOf(`catalog notice: now following pod ${c} (replaced ${a})`);
    expect(gone).toBeGreaterThan(-1);
    expect(following).toBeGreaterThan(gone);
    expect(seen.indexOf(`catalog ${c} started`)).toBeGreaterThan(following);
    expect(new Set(seen).size).toBe(seen.length);
    // Older than the tail: not shown by the backlog, nor by the follow that starts a little before it.
    expect(seen.filter((l) => / (c1|o1)$/.test(l) || l === `catalog ${a} started`)).toEqual([]);
  });

  it('an interrupt while the follow is being set up stops it: no watch is left open', async () => {
    await catalogAndOrder();
    const stop = new AbortController();
    const watches: Array<{ stopped: boolean }> = [];
    // The real client; the interrupt comes just as a pod watch has been opened.
    const client = new Proxy(cluster.client, {
      get: (target, key, receiver) =>
        key === 'watch'
          ? async (...args: Parameters<typeof target.watch>) => {
              const handle = await target.watch(...args);
              const watch = { stopped: false };
              watches.push(watch);
              stop.abort();
              return { stop: () => ((watch.stopped = true), handle.stop()) };
            }
          : (Reflect.get(target, key, receiver) as unknown),
    });
    for await (const line of clusterLogs(client, { services: ['catalog', 'order'], follow: true, tail: 0, signal: stop.signal })) void line;

    await eventually(() => (watches.length > 0 && watches.every((w) => w.stopped)) || undefined, 5_000, 'every watch to be stopped');
  });

  it('a line written while the backlog is being read is shown once, by the backlog', async () => {
    const { a } = await catalogAndOrder();
    let written = false;
    // The real client; the pod writes a line just as the backlog of its service is asked for.
    const client = new Proxy(cluster.client, {
      get: (target, key, receiver) =>
        key === 'podLog'
          ? (...args: Parameters<typeof target.podLog>) => {
              if (!written) cluster.api.pod(SERVICES_NS, a).appendLog('catalog', [pino('during')]);
              written = true;
              return target.podLog(...args);
            }
          : (Reflect.get(target, key, receiver) as unknown),
    });
    const stop = new AbortController();
    const seen: string[] = [];
    const reading = (async () => {
      for await (const line of clusterLogs(client, { services: ['catalog'], follow: true, signal: stop.signal })) seen.push(show(line));
    })();
    await eventually(() => seen.includes(`catalog ${a} during`) || undefined, 5_000, 'the line written during the backlog');
    cluster.api.pod(SERVICES_NS, a).appendLog('catalog', [pino('after')]);
    await eventually(() => seen.includes(`catalog ${a} after`) || undefined, 5_000, 'a live line');
    stop.abort();
    await reading;

    expect(seen.filter((l) => l.endsWith(' during'))).toEqual([`catalog ${a} during`]);
    expect(new Set(seen).size).toBe(seen.length);
  });
});
