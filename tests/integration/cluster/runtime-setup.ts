/**
 * Shared by the kind and context runtime tests: the in-test API server (the cluster),
 * the recording stand-in tools on a PATH of their own, one real HTTP server that every
 * service pod's port forwards to (it answers /health 200), a state directory, and the
 * runtime built with the stand-ins' PATH and a registry fetch that reads what the
 * stand-in docker pushed. The detached forwarder is the real one.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { DEFAULT_PORTS, SERVICE_NAMES } from '../../../src/core/system.js';
import { stopForwarder } from '../../../src/runtime/cluster/forwarder.js';
import type { ProgressEvent } from '../../../src/runtime/types.js';
import { ToolRunner } from '../../../src/tools/tool-runner.js';
import { createClusterTools, type ClusterTool, type ClusterTools } from '../../helpers/cluster-tools/index.js';
import { startFakeKubeApi, type FakeKubeApi } from '../../helpers/fake-kube-api/index.js';
import { CLUSTER_FORWARD_PORTS, releasePortOffset, reserveForwardOffset } from '../../helpers/port-offset.js';

export interface RuntimeTestContext {
  api: FakeKubeApi;
  tools: ClusterTools;
  runner: ToolRunner;
  dir: string;
  stateDir: string;
  hostsFile: string;
  /** Every port the forwards take is shifted by this, away from anything else running here. */
  portOffset: number;
  events: ProgressEvent[];
  progress: (event: ProgressEvent) => void;
  health: { server: Server; port: number; requests: number };
}

export interface RuntimeTestOptions {
  omit?: ClusterTool[];
  /** Namespaces the cluster has before ecom comes (kube-public always). */
  namespaces?: string[];
}

async function startHealthServer(): Promise<RuntimeTestContext['health']> {
  const health = { requests: 0 } as RuntimeTestContext['health'];
  health.server = createServer((req, res) => {
    health.requests++;
    res.setHeader('content-type', 'application/json');
    res.end(req.url === '/health' ? '{"status":"ok","checks":{}}' : '{}');
  });
  await new Promise<void>((resolve) => health.server.listen(0, '127.0.0.1', resolve));
  health.port = (health.server.address() as AddressInfo).port;
  return health;
}

export function useRuntimeFixture(options: RuntimeTestOptions = {}): RuntimeTestContext {
  const ctx = {} as RuntimeTestContext;
  beforeEach(async () => {
    ctx.dir = mkdtempSync(join(tmpdir(), 'ecom-runtime-'));
    ctx.stateDir = join(ctx.dir, 'state');
    ctx.hostsFile = join(ctx.dir, 'hosts');
    writeFileSync(ctx.hostsFile, '127.0.0.1 localhost\n');
    const osRelease = join(ctx.dir, 'os-release');
    writeFileSync(osRelease, 'ID=debian\nVERSION_ID="12"\n');
    ctx.api = await startFakeKubeApi({ namespaces: ['kube-public', ...(options.namespaces ?? [])] });
    ctx.health = await startHealthServer();
    for (const service of SERVICE_NAMES) {
      ctx.api.scenario('ecommerce', service, { ports: { [DEFAULT_PORTS[service]]: { host: '127.0.0.1', port: ctx.health.port } } });
    }
    ctx.tools = createClusterTools({ omit: options.omit, kube: { server: ctx.api.url, token: ctx.api.token } });
    ctx.runner = new ToolRunner({ env: ctx.tools.env(), systemDirs: [], osReleasePath: osRelease, platform: 'linux', arch: 'x64' });
    ctx.portOffset = await reserveForwardOffset();
    ctx.events = [];
    ctx.progress = (event) => ctx.events.push(event);
  });
  afterEach(async () => {
    await stopForwarder(ctx.stateDir);
    releasePortOffset(CLUSTER_FORWARD_PORTS, ctx.portOffset);
    await ctx.api.close();
    await new Promise((resolve) => ctx.health.server.close(resolve));
    ctx.tools.cleanup();
    rmSync(ctx.dir, { recursive: true, force: true });
  });
  return ctx;
}

/** The calls that change something, as `tool arg …` (checks and version probes left out). */
export function changingCalls(lines: string[]): string[] {
  const reading = [
    /^(kind|kubectl|helm|istioctl) version/,
    /^docker version/,
    /^docker buildx version/,
    /^kind get clusters/,
    /^docker (container|image) inspect/,
    /^docker exec ecom-[a-z-]+ cat /,
    /^helm list/,
  ];
  return lines.filter((line) => !reading.some((pattern) => pattern.test(line)));
}
