/**
 * The cluster runtimes' forwarder as users get it: the built dist/runtime/cluster/
 * forwarder.js started detached by startForwarder, talking to the in-test API server
 * through a kubeconfig, forwarding over its WebSocket port-forward to real HTTP
 * servers that stand in for the pods.
 */
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EcomError } from '../../../src/core/errors.js';
import { commandLine, isAlive, isZombie, portIsFree, realProc } from '../../../src/core/processes.js';
import { forwarderPid, readForwardStates, startForwarder, stopForwarder, type ForwardSpec } from '../../../src/runtime/cluster/forwarder.js';
import { ensureBuilt } from '../../helpers/build.js';
import { eventually } from '../../helpers/services.js';
import { applyAndRollOut, deploymentObject, freePort, httpGet, namespaceObject, podServer, serviceObject, SERVICES_NS, useFakeCluster } from './setup.js';

const cluster = useFakeCluster();

beforeAll(() => ensureBuilt(), 180_000);

async function deployCatalog(target: { host: string; port: number }): Promise<string> {
  cluster.api.scenario(SERVICES_NS, 'catalog', { ports: { 5001: target } });
  await applyAndRollOut(cluster.client, [namespaceObject(SERVICES_NS), deploymentObject('catalog', 5001), serviceObject('catalog', 5001)]);
  return cluster.api.pods(SERVICES_NS, 'catalog')[0]!;
}

function catalogForward(localPort: number): ForwardSpec {
  return { name: 'catalog', namespace: SERVICES_NS, service: 'catalog-service', port: 5001, localPort };
}

async function start(forwards: ForwardSpec[]): Promise<number> {
  const stateDir = join(cluster.dir, 'state');
  cluster.cleanups.push(async () => void (await stopForwarder(stateDir)));
  const { pid } = await startForwarder({ stateDir, kubeconfigPath: cluster.kubeconfig, forwards });
  return pid;
}

describe('the forwarder process', () => {
  it('forwards to the pod behind the Service, reconnects to its replacement, and stops leaving nothing behind', async () => {
    const stateDir = join(cluster.dir, 'state');
    const first = await podServer(cluster, 'pod-a');
    const second = await podServer(cluster, 'pod-b');
    const pod = await deployCatalog(first);
    const localPort = await freePort();

    const pid = await start([catalogForward(localPort)]);
    expect(commandLine(pid)).toContain(join('dist', 'runtime', 'cluster', 'forwarder.js'));
    expect(pid).not.toBe(process.pid);
    expect(await httpGet(localPort, '/catalog')).toBe('pod-a answered /catalog');
    await eventually(() => readForwardStates(stateDir)[0]?.state === 'ready' || undefined, 5_000, 'the state file to say ready');
    expect(readForwardStates(stateDir)).toEqual([{ name: 'catalog', localPort, state: 'ready', pod, reconnects: 0 }]);

    const replacement = cluster.api.replacePod(SERVICES_NS, pod, { ports: { 5001: second } });
    await eventually(() => (readForwardStates(stateDir)[0]?.pod === replacement && readForwardStates(stateDir)[0]?.state === 'ready') || undefined, 10_000, 'the forward to move to the new pod');
    expect(await httpGet(localPort, '/catalog')).toBe('pod-b answered /catalog');
    expect(readForwardStates(stateDir)).toEqual([{ name: 'catalog', localPort, state: 'ready', pod: replacement, reconnects: 1, lastError: `pod ${pod} was deleted` }]);
    expect(forwarderPid(stateDir)).toBe(pid);

    const log = readFileSync(join(stateDir, 'logs', 'forwarder.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(log.filter((l) => l.forward === 'catalog' && l.state === 'ready').map((l) => [l.pod, l.reconnects])).toEqual([
      [pod, 0],
      [replacement, 1],
    ]);

    expect(await stopForwarder(stateDir)).toBe(true);
    // Gone, or at most a zombie until this test process (its parent here) reaps it.
    expect(isAlive(pid) && !isZombie(pid, realProc)).toBe(false);
    expect(await portIsFree(localPort)).toBe(true);
    expect(readForwardStates(stateDir)).toEqual([]);
    expect(await stopForwarder(stateDir)).toBe(false);
    const lastLine = readFileSync(join(stateDir, 'logs', 'forwarder.log'), 'utf8').trim().split('\n').at(-1)!;
    expect(JSON.parse(lastLine)).toMatchObject({ level: 'info', msg: 'stopped', pid });
  });

  it('a second start with the same plan keeps the running forwarder; a changed plan replaces it', async () => {
    await deployCatalog(await podServer(cluster, 'pod-a'));
    const [one, two] = [await freePort(), await freePort()];
    const pid = await start([catalogForward(one)]);

    expect(await start([catalogForward(one)])).toBe(pid);
    const moved = await start([catalogForward(two)]);
    expect(moved).not.toBe(pid);
    expect(isAlive(pid) && !isZombie(pid, realProc)).toBe(false);
    expect(await portIsFree(one)).toBe(true);
    expect(await httpGet(two, '/x')).toBe('pod-a answered /x');
  });

  it('a forwarder that cannot start says why in one line, and leaves nothing running', async () => {
    const stateDir = join(cluster.dir, 'state');
    const missing = join(cluster.dir, 'no-such-kubeconfig');
    const error = await startForwarder({ stateDir, kubeconfigPath: missing, forwards: [catalogForward(await freePort())] }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(EcomError);
    expect((error as EcomError).message).toBe(`the port-forwards did not start: no kubeconfig at ${missing}`);
    expect(forwarderPid(stateDir)).toBeUndefined();
    const log = readFileSync(join(stateDir, 'logs', 'forwarder.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(log.at(-1)).toMatchObject({ level: 'error', msg: `cannot start the forwards: no kubeconfig at ${missing}` });
  });

  it('a local port something else holds is one line naming the port and its holder, and nothing keeps running', async () => {
    await deployCatalog(await podServer(cluster, 'pod-a'));
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    cluster.cleanups.push(() => new Promise<void>((resolve) => holder.close(() => resolve())));
    const taken = (holder.address() as AddressInfo).port;
    const stateDir = join(cluster.dir, 'state');

    const error = await startForwarder({ stateDir, kubeconfigPath: cluster.kubeconfig, forwards: [catalogForward(await freePort()), { ...catalogForward(taken), name: 'frontend' }] }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EcomError);
    const comm = realProc.read(process.pid, 'comm')!.trim();
    expect((error as EcomError).message).toBe(`port ${taken} (frontend forward) is taken by pid ${process.pid} (${comm})`);
    expect((error as EcomError).exitCode).toBe(1);
    expect((error as EcomError).message).not.toContain('\n');
    expect(forwarderPid(stateDir)).toBeUndefined();
  });
});
