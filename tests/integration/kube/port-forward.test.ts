import { createServer as createHttpServer, get, type Server } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EcomError } from '../../../src/core/errors.js';
import { applyObjects } from '../../../src/kube/apply.js';
import { ServiceForward, type ForwardStatus } from '../../../src/kube/port-forward.js';
import { waitForRollouts } from '../../../src/kube/rollout.js';
import type { PodScenario } from '../../helpers/fake-kube-api/index.js';
import { deploymentObject, NAMESPACE, namespaceObject, serviceObject, useFakeCluster } from './setup.js';

const kube = useFakeCluster();
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A real HTTP server standing in for one pod: it answers with its own name. */
async function podServer(name: string): Promise<{ host: string; port: number }> {
  const server: Server = createHttpServer((req, res) => res.end(`${name} answered ${req.url}`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { host: '127.0.0.1', port: (server.address() as AddressInfo).port };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** One request on its own connection (no keep-alive), as a browser tab or curl would. */
function httpGet(port: number, path = '/health'): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += String(chunk)));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

async function deployCatalog(scenario: PodScenario, options: { rollout?: boolean } = {}): Promise<void> {
  kube.api.scenario(NAMESPACE, 'catalog', scenario);
  const objects = [namespaceObject(), deploymentObject('catalog', { port: 5001 }), serviceObject('catalog', 5001, 'http')];
  await applyObjects(kube.client, objects);
  if (options.rollout !== false) expect((await waitForRollouts(kube.client, objects, { timeoutMs: 10_000, pollIntervalMs: 50 })).outcome).toBe('ready');
}

async function startForward(): Promise<{ forward: ServiceForward; port: number; statuses: ForwardStatus[] }> {
  const port = await freePort();
  const statuses: ForwardStatus[] = [];
  const forward = new ServiceForward(kube.client, {
    namespace: NAMESPACE,
    service: 'catalog',
    servicePort: 5001,
    localPort: port,
    initialBackoffMs: 50,
    maxBackoffMs: 200,
    onStatus: (s) => statuses.push(s),
  });
  await forward.start();
  closers.push(() => forward.stop());
  return { forward, port, statuses };
}

async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('ServiceForward through the API server WebSocket', () => {
  it('carries requests to the pod behind the Service, and to its replacement after a redeploy', async () => {
    const first = await podServer('pod-a');
    const second = await podServer('pod-b');
    await deployCatalog({ ports: { 5001: first } });
    const { forward, port } = await startForward();
    await forward.waitUntilReady(5_000);
    const [pod] = kube.api.pods(NAMESPACE, 'catalog');

    expect(await httpGet(port, '/products')).toBe('pod-a answered /products');
    expect(forward.status()).toMatchObject({ state: 'ready', pod, reconnects: 0, localPort: port });
    expect(kube.api.requests).toContain(`UPGRADE /api/v1/namespaces/ecom/pods/${pod}/portforward?ports=5001`);

    const replacement = kube.api.replacePod(NAMESPACE, pod!, { ports: { 5001: second } });
    // A request made while the forward moves is held, then answered by the new pod.
    const during = httpGet(port, '/during');
    await until(() => forward.status().pod === replacement && forward.status().state === 'ready', 'the forward to move to the new pod');

    expect(await during).toBe('pod-b answered /during');
    expect(await httpGet(port, '/products')).toBe('pod-b answered /products');
    expect(forward.status()).toMatchObject({ state: 'ready', pod: replacement, reconnects: 1, lastError: `pod ${pod} was deleted` });
  });

  it('waits for the istio-proxy sidecar to be ready before forwarding', async () => {
    const target = await podServer('meshed');
    await deployCatalog({ ports: { 5001: target }, istioProxy: { state: 'starting' } }, { rollout: false });
    const { forward, port } = await startForward();
    const [pod] = kube.api.pods(NAMESPACE, 'catalog');
    await until(() => forward.status().waitingFor === `istio-proxy in pod ${pod}`, 'the forward to wait for the proxy');
    const early = httpGet(port, '/early');
    await new Promise((r) => setTimeout(r, 300));

    expect(forward.status().state).toBe('connecting');
    kube.api.pod(NAMESPACE, pod!).setContainer('istio-proxy', { state: 'ready' });
    await forward.waitUntilReady(5_000);
    expect(await early).toBe('meshed answered /early');
    expect(forward.status()).toMatchObject({ state: 'ready', pod, reconnects: 0 });
  });

  it('backs off while no pod behind the Service is ready, saying why, and connects once one is', async () => {
    const target = await podServer('late');
    await deployCatalog({ ports: { 5001: target }, default: { state: 'starting' } }, { rollout: false });
    const { forward, statuses } = await startForward();
    await until(() => statuses.filter((s) => s.state === 'backoff').length >= 3, 'several back-offs');
    const [pod] = kube.api.pods(NAMESPACE, 'catalog');

    expect(forward.status().lastError).toBe(`no ready pod behind service ecom/catalog (${pod}: Running)`);
    kube.api.pod(NAMESPACE, pod!).setContainer('catalog', { state: 'ready' });
    await forward.waitUntilReady(5_000);
    expect(forward.status()).toMatchObject({ state: 'ready', pod, reconnects: 0 });
  });

  it('a refused connection inside the pod is reported from the error channel', async () => {
    await deployCatalog({});
    const { forward, port } = await startForward();
    await forward.waitUntilReady(5_000);
    const [pod] = kube.api.pods(NAMESPACE, 'catalog');

    await expect(httpGet(port)).rejects.toThrow();
    await until(() => (forward.status().lastError ?? '').includes('connection refused'), 'the error to be recorded');
    expect(forward.status().lastError).toBe(
      `pod ${pod} port 5001: error forwarding port 5001 to pod ${pod}: failed to connect to localhost:5001 inside namespace: connect: connection refused`,
    );
  });

  it('a local port already taken is a one-line error', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => taken.close(() => resolve())));
    const port = (taken.address() as AddressInfo).port;
    const forward = new ServiceForward(kube.client, { namespace: NAMESPACE, service: 'catalog', servicePort: 5001, localPort: port });

    const error = await forward.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EcomError);
    expect((error as EcomError).message).toBe(`port ${port} on 127.0.0.1 is taken; cannot forward service catalog there`);
  });
});
