/**
 * The console in a cluster runtime: the built forwarder, started by startForwarder as
 * `up` starts it, serves it on 127.0.0.1 at 5005 + the recorded port offset, with the
 * status the kind runtime gives (read from the in-test API server through the
 * kubeconfig) plus src/observe, and frees the port when it stops.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CSP } from '../../../src/console/server.js';
import { readConsoleUrl } from '../../../src/runtime/cluster/forwarder-files.js';
import { CONSOLE_BASE_PORT } from '../../../src/core/system.js';
import { portIsFree } from '../../../src/core/processes.js';
import { writeClusterRecord } from '../../../src/runtime/cluster/context.js';
import { startForwarder, stopForwarder } from '../../../src/runtime/cluster/forwarder.js';
import type { SystemStatus } from '../../../src/runtime/types.js';
import { ensureBuilt } from '../../helpers/build.js';
import { eventually } from '../../helpers/services.js';
import { applyAndRollOut, deploymentObject, freePort, namespaceObject, podServer, serviceObject, SERVICES_NS, useFakeCluster } from './setup.js';

const cluster = useFakeCluster();

beforeAll(() => ensureBuilt(), 180_000);

function get(port: number, path: string): Promise<{ status: number; csp: unknown; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, csp: res.headers['content-security-policy'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the console beside the forwards', () => {
  it("serves the kind runtime's status on 5005 + the recorded offset, and stops with the forwarder", async () => {
    const stateDir = join(cluster.dir, 'state');
    cluster.api.scenario(SERVICES_NS, 'catalog', { ports: { 5001: await podServer(cluster, 'pod-a') } });
    await applyAndRollOut(cluster.client, [namespaceObject(SERVICES_NS), deploymentObject('catalog', 5001), serviceObject('catalog', 5001)]);
    // An offset whose console port is free now: 5005 + offset is a port the kernel just handed out.
    const consolePort = await freePort();
    const portOffset = consolePort - CONSOLE_BASE_PORT;
    writeClusterRecord(stateDir, {
      runtime: 'kind',
      kubeconfigPath: cluster.kubeconfig,
      context: 'kind-ecom',
      portOffset,
      mesh: 'none',
      registry: 'localhost:5050',
      createdNamespaces: [],
      helmReleases: [],
      upAt: new Date().toISOString(),
    });
    const localPort = await freePort();
    cluster.cleanups.push(async () => void (await stopForwarder(stateDir)));
    await startForwarder({
      stateDir,
      kubeconfigPath: cluster.kubeconfig,
      forwards: [{ name: 'catalog', namespace: SERVICES_NS, service: 'catalog-service', port: 5001, localPort }],
    });

    const logged = () => readFileSync(join(stateDir, 'logs', 'forwarder.log'), 'utf8');
    await eventually(() => logged().includes(`console on http://127.0.0.1:${consolePort}`) || undefined, 15_000, 'the forwarder to log the console');
    const page = await get(consolePort, '/');
    expect(page.status).toBe(200);
    expect(page.csp).toBe(CONSOLE_CSP);
    // The runtime's endpoints (ecom open console, status) name the console from this record.
    expect(readConsoleUrl(stateDir)).toBe(`http://127.0.0.1:${consolePort}`);

    const status = JSON.parse((await get(consolePort, '/api/status')).body) as SystemStatus;
    expect(status.runtime).toBe('kind');
    expect(status.running).toBe(true);
    expect(status.services.find((s) => s.name === 'catalog')).toMatchObject({ ready: 1, detail: { kind: 'pods' } });
    expect(status.forwards?.map((f) => [f.name, f.localPort])).toEqual([['catalog', localPort]]);

    expect(await stopForwarder(stateDir)).toBe(true);
    expect(await portIsFree(consolePort)).toBe(true);
    expect(readConsoleUrl(stateDir)).toBeUndefined();
  }, 60_000);
});
