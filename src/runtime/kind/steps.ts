/**
 * The kind runtime's own steps (docs/architecture.md, "kind"): the cluster from
 * manifests/kind/cluster.yaml, its kubeconfig in the state directory (the user's own
 * kubeconfig is never touched), the registry container on the kind network, and each
 * node told where `localhost:5050` really is. Every step checks before it acts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LOCAL_REGISTRY } from '../../manifests/local-registry.js';
import type { ClusterStepContext } from '../cluster/context.js';
import { commandAction, commandCheck, type Step } from '../cluster/plan.js';

type KindStep = Step<ClusterStepContext>;

export const CLUSTER_NAME = 'ecom';
/** The context `kind` writes for the cluster. */
export const KIND_CONTEXT = `kind-${CLUSTER_NAME}`;
export const CLUSTER_CONFIG_FILE = 'manifests/kind/cluster.yaml';
/** A locally made image may stand in for it (docs/architecture.md, "Testing"). */
export const REGISTRY_IMAGE = 'registry:2';
const REGISTRY = LOCAL_REGISTRY;
const HOSTS_DIR = `/etc/containerd/certs.d/${REGISTRY.host}`;
/** containerd on the nodes: `localhost:5050` is the registry container on the kind network. */
export const NODE_HOSTS_TOML = `[host."http://${REGISTRY.containerName}:${REGISTRY.containerPort}"]\n`;
const CREATE_TIMEOUT_MS = 10 * 60_000;
const QUICK_TIMEOUT_MS = 60_000;

export function kubeconfigPath(stateDir: string): string {
  return join(stateDir, 'kubeconfig');
}

/**
 * The node containers kind makes for the config: `ecom-control-plane`, `ecom-worker`,
 * then `ecom-worker2` and so on, as kind names them.
 */
export async function nodeNames(root: string): Promise<string[]> {
  const { parse } = await import('yaml');
  const config = parse(await readFile(join(root, CLUSTER_CONFIG_FILE), 'utf8')) as { nodes?: Array<{ role?: string }> };
  const count = new Map<string, number>();
  return (config.nodes ?? [{ role: 'control-plane' }]).map((node) => {
    const role = node.role ?? 'control-plane';
    const n = (count.get(role) ?? 0) + 1;
    count.set(role, n);
    return `${CLUSTER_NAME}-${role}${n === 1 ? '' : n}`;
  });
}

export function clusterStep(root: string, stateDir: string): KindStep {
  return {
    id: 'cluster',
    title: `kind cluster ${CLUSTER_NAME}`,
    needs: ['prerequisites'],
    check: commandCheck({ tool: 'kind', args: ['get', 'clusters'], timeoutMs: QUICK_TIMEOUT_MS }, `kind get clusters lists ${CLUSTER_NAME}`, (result) =>
      (result?.stdout ?? '').split('\n').some((line) => line.trim() === CLUSTER_NAME) ? `cluster ${CLUSTER_NAME} exists` : undefined,
    ),
    actions: [
      commandAction({
        tool: 'kind',
        args: ['create', 'cluster', '--name', CLUSTER_NAME, '--config', join(root, CLUSTER_CONFIG_FILE), '--kubeconfig', kubeconfigPath(stateDir)],
        timeoutMs: CREATE_TIMEOUT_MS,
        hint: 'check that the Docker engine has room (about 4 GB of memory for the whole system); `ecom down` removes a half-made cluster',
      }),
    ],
  };
}

/** A cluster made earlier (or by hand) still gets its kubeconfig into the state directory. */
export function kubeconfigStep(stateDir: string): KindStep {
  const path = kubeconfigPath(stateDir);
  return {
    id: 'kubeconfig',
    title: 'kubeconfig',
    needs: ['cluster'],
    check: {
      describe: `${path} has the context ${KIND_CONTEXT}`,
      done: async () => (existsSync(path) && readFileSync(path, 'utf8').includes(KIND_CONTEXT) ? `${path} has ${KIND_CONTEXT}` : undefined),
    },
    actions: [commandAction({ tool: 'kind', args: ['export', 'kubeconfig', '--name', CLUSTER_NAME, '--kubeconfig', path], timeoutMs: QUICK_TIMEOUT_MS })],
  };
}

function inspectRegistry(format: string) {
  return { tool: 'docker', args: ['container', 'inspect', '--format', format, REGISTRY.containerName], timeoutMs: QUICK_TIMEOUT_MS };
}

/** The registry container: created unless it exists, started unless it runs, joined to the kind network. */
export function registrySteps(): KindStep[] {
  const name = REGISTRY.containerName;
  const state = inspectRegistry('{{.State.Status}}');
  return [
    {
      id: 'registry-container',
      title: `registry container ${name}`,
      needs: ['prerequisites'],
      check: commandCheck(state, `docker container inspect finds ${name}`, (result) => (result ? `${name} exists` : undefined)),
      actions: [
        commandAction({
          tool: 'docker',
          args: [
            'run', '--detach', '--restart', 'always', '--name', name,
            '--publish', `127.0.0.1:${REGISTRY.hostPort}:${REGISTRY.containerPort}`,
            REGISTRY_IMAGE,
          ],
          timeoutMs: CREATE_TIMEOUT_MS,
          hint: `is port ${REGISTRY.hostPort} free on 127.0.0.1, and can the engine pull or find ${REGISTRY_IMAGE}?`,
        }),
      ],
    },
    {
      id: 'registry-running',
      title: `registry ${REGISTRY.host}`,
      needs: ['registry-container'],
      check: commandCheck(state, `${name} is running`, (result) => (result?.stdout.trim() === 'running' ? `${name} is running` : undefined)),
      actions: [commandAction({ tool: 'docker', args: ['start', name], timeoutMs: QUICK_TIMEOUT_MS })],
    },
    {
      id: 'registry-network',
      title: `${name} on the kind network`,
      needs: ['cluster', 'registry-container'],
      check: commandCheck(inspectRegistry('{{json .NetworkSettings.Networks}}'), `${name} is on the network kind`, (result) => {
        const networks = parseJsonObject(result?.stdout);
        return networks && 'kind' in networks ? `${name} is on the network kind` : undefined;
      }),
      actions: [commandAction({ tool: 'docker', args: ['network', 'connect', 'kind', name], timeoutMs: QUICK_TIMEOUT_MS })],
    },
  ];
}

/** Each node's containerd learns that `localhost:5050` is the registry container (no restart needed). */
export function nodeRegistrySteps(nodes: string[]): KindStep[] {
  return nodes.map((node) => ({
    id: `node-registry-${node}`,
    title: `registry hosts on ${node}`,
    needs: ['cluster'],
    check: commandCheck(
      { tool: 'docker', args: ['exec', node, 'cat', `${HOSTS_DIR}/hosts.toml`], timeoutMs: QUICK_TIMEOUT_MS },
      `${node} has ${HOSTS_DIR}/hosts.toml`,
      (result) => (result?.stdout === NODE_HOSTS_TOML || result?.stdout.trim() === NODE_HOSTS_TOML.trim() ? `${node} pulls ${REGISTRY.host} from ${REGISTRY.containerName}` : undefined),
    ),
    actions: [
      commandAction({
        tool: 'docker',
        args: ['exec', '--interactive', node, 'sh', '-c', `mkdir -p ${HOSTS_DIR} && cat > ${HOSTS_DIR}/hosts.toml`],
        input: NODE_HOSTS_TOML,
        timeoutMs: QUICK_TIMEOUT_MS,
      }),
    ],
  }));
}

function parseJsonObject(text: string | undefined): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text ?? '') as unknown;
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
