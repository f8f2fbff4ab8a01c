/**
 * Recording stand-ins for the cluster runtimes' tools (docs/architecture.md,
 * "Testing"): kind, docker, helm, istioctl and kubectl on a PATH of their own. Each
 * logs its argv with start and end times (so tests assert order and concurrency),
 * keeps what it made (clusters, containers, images, pushed tags, releases) as files
 * and answers from them like the real tool; kind writes a kubeconfig pointing at the
 * in-test API server, and helm applies its release's Deployment and Service there.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ClusterTool = 'kind' | 'docker' | 'helm' | 'istioctl' | 'kubectl';
export const CLUSTER_TOOLS: ClusterTool[] = ['kind', 'docker', 'helm', 'istioctl', 'kubectl'];

const SCRIPT = fileURLToPath(new URL('./tools.mjs', import.meta.url));

export interface ToolCall {
  tool: string;
  args: string[];
  /** Epoch milliseconds. */
  start: number;
  end: number;
}

export interface ClusterToolsOptions {
  /** Tools to leave out (a missing prerequisite). Default: none. */
  omit?: ClusterTool[];
  /** The in-test API server that kind's kubeconfig points at and helm applies to. */
  kube?: { server: string; token: string };
}

export interface ClusterTools {
  /** The directory to put on PATH (alone). */
  dir: string;
  /** An environment with only the stand-ins on PATH, `extra` added. */
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  calls(): ToolCall[];
  /** `tool arg arg …` for each call, in the order they started. */
  lines(): string[];
  clearCalls(): void;
  /** What the stand-in docker pushed: `localhost:5050/ecom/catalog:<tag>` … */
  pushed(): string[];
  /** Whether a stand-in state file exists: `clusters/ecom`, `containers/ecom-registry` … */
  has(path: string): boolean;
  /** A fetch that answers a registry's manifest HEAD from what the stand-in docker pushed. */
  registryFetch: typeof fetch;
  cleanup(): void;
}

const stateName = (part: string) => part.replace(/[/:]/g, '_');

export function createClusterTools(options: ClusterToolsOptions = {}): ClusterTools {
  const dir = mkdtempSync(join(tmpdir(), 'ecom-cluster-tools-'));
  const state = join(dir, 'state');
  mkdirSync(state);
  const log = join(dir, 'calls.jsonl');
  writeFileSync(log, '');
  for (const tool of CLUSTER_TOOLS.filter((t) => !(options.omit ?? []).includes(t))) {
    const path = join(dir, tool);
    // The start is taken before node starts: on a busy machine node's own start takes a while.
    writeFileSync(path, `#!/bin/sh\nSTAND_IN_START=$(/bin/date +%s%3N) exec '${process.execPath}' '${SCRIPT}' ${tool} "$@"\n`);
    chmodSync(path, 0o755);
  }
  const calls = (): ToolCall[] =>
    readFileSync(log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as ToolCall)
      .sort((a, b) => a.start - b.start);
  const pushed = (): string[] => {
    const file = join(state, 'pushed.log');
    return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  };
  const registryFetch: typeof fetch = async (input, init) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    const match = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    if (!match || (init?.method ?? 'GET') !== 'HEAD') return new Response(null, { status: 404 });
    const reference = `${url.host}/${match[1]}:${decodeURIComponent(match[2]!)}`;
    return new Response(null, { status: existsSync(join(state, 'registry', stateName(reference))) ? 200 : 404 });
  };
  return {
    dir,
    env: (extra = {}) => ({
      ...process.env,
      PATH: dir,
      STAND_IN_DIR: dir,
      ...(options.kube ? { STAND_IN_KUBE_SERVER: options.kube.server, STAND_IN_KUBE_TOKEN: options.kube.token } : {}),
      // The image builder looks for BuildKit-capable clients beyond PATH; only the stand-in counts here.
      ECOM_DOCKER: join(dir, 'docker'),
      DOCKER_HOST: 'unix:///nowhere.sock',
      ...extra,
    }),
    calls,
    lines: () => calls().map((c) => [c.tool, ...c.args].join(' ')),
    clearCalls: () => writeFileSync(log, ''),
    pushed,
    has: (path) => existsSync(join(state, ...path.split('/').map(stateName))),
    registryFetch,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Whether two calls ran at the same time. */
export function overlapped(a: ToolCall, b: ToolCall): boolean {
  return a.start < b.end && b.start < a.end;
}
