// The kind stand-in of the kind e2e test (tests/e2e/kind-runtime.test.ts), run as
// `node kind-harness-kind.mjs <args…>` from a `kind` script on the test's PATH. Unlike
// the recording stand-ins of tests/helpers/cluster-tools it works on the real Docker
// engine in DOCKER_HOST, as kind does: `create cluster` makes the `kind` network and one
// container per node of the config (named and labelled as kind names them, a shell
// image in place of the node image, so `docker exec` into a node works), and writes a
// kubeconfig pointing at the in-test API server; `get clusters` lists clusters from the
// node containers' labels; `delete cluster` removes the node containers and, like kind,
// leaves the network. Each call is logged to $STAND_IN_DIR/calls.jsonl as the other
// stand-ins log theirs.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';

const [, , ...args] = process.argv;
const start = Number(process.env.STAND_IN_START) || Date.now();
const DOCKER = process.env.KIND_STAND_IN_DOCKER ?? '/usr/bin/docker';
const NODE_IMAGE = process.env.KIND_STAND_IN_NODE_IMAGE ?? 'node:20-bookworm-slim';
const CLUSTER_LABEL = 'io.x-k8s.kind.cluster';
const out = (text) => process.stdout.write(`${text}\n`);
const err = (text) => process.stderr.write(`${text}\n`);
const flag = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);

function finish(code) {
  appendFileSync(join(process.env.STAND_IN_DIR, 'calls.jsonl'), `${JSON.stringify({ tool: 'kind', args, start, end: Date.now() })}\n`);
  process.exit(code);
}

function docker(...dockerArgs) {
  return execFileSync(DOCKER, dockerArgs, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

const lines = (text) => text.split('\n').map((l) => l.trim()).filter(Boolean);
const nodesOf = (cluster) => lines(docker('ps', '--all', '--filter', `label=${CLUSTER_LABEL}=${cluster}`, '--format', '{{.Names}}'));

/** `ecom-control-plane`, `ecom-worker`, `ecom-worker2`: kind's names for the config's nodes. */
function nodeNames(cluster, configFile) {
  const config = configFile ? parse(readFileSync(configFile, 'utf8')) : {};
  const seen = new Map();
  return (config.nodes ?? [{ role: 'control-plane' }]).map(({ role = 'control-plane' }) => {
    const n = (seen.get(role) ?? 0) + 1;
    seen.set(role, n);
    return { name: `${cluster}-${role}${n === 1 ? '' : n}`, role };
  });
}

function writeKubeconfig(path, cluster) {
  const context = `kind-${cluster}`;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': context, preferences: {},
    clusters: [{ name: context, cluster: { server: process.env.STAND_IN_KUBE_SERVER, 'insecure-skip-tls-verify': true } }],
    users: [{ name: context, user: { token: process.env.STAND_IN_KUBE_TOKEN } }],
    contexts: [{ name: context, context: { cluster: context, user: context } }],
  }, null, 2), { mode: 0o600 });
}

function createCluster(cluster) {
  err(`Creating cluster "${cluster}" ...`);
  if (nodesOf(cluster).length > 0) {
    err(`ERROR: failed to create cluster: node(s) already exist for a cluster with the name "${cluster}"`);
    return finish(1);
  }
  try {
    docker('network', 'inspect', 'kind');
  } catch {
    docker('network', 'create', '--label', 'ecom.test=kind-network', 'kind');
  }
  for (const node of nodeNames(cluster, flag('--config'))) {
    docker('run', '--detach', '--name', node.name, '--hostname', node.name, '--network', 'kind',
      '--label', `${CLUSTER_LABEL}=${cluster}`, '--label', `io.x-k8s.kind.role=${node.role}`, '--label', 'ecom.test=kind-nodes',
      NODE_IMAGE, 'sleep', 'infinity');
  }
  if (flag('--kubeconfig')) writeKubeconfig(flag('--kubeconfig'), cluster);
  err(`Set kubectl context to "kind-${cluster}"`);
}

const cluster = flag('--name') ?? 'kind';
const command = args.slice(0, 2).join(' ');
try {
  if (args[0] === 'version') out('kind v0.29.0 go1.24.2 linux/amd64');
  else if (command === 'get clusters') {
    const names = [...new Set(lines(docker('ps', '--all', '--filter', `label=${CLUSTER_LABEL}`, '--format', `{{.Label "${CLUSTER_LABEL}"}}`)))];
    if (names.length === 0) err('No kind clusters found.');
    names.forEach((name) => out(name));
  } else if (command === 'create cluster') createCluster(cluster);
  else if (command === 'export kubeconfig') {
    if (nodesOf(cluster).length === 0) {
      err(`ERROR: could not locate any control plane nodes for cluster named '${cluster}'`);
      finish(1);
    }
    writeKubeconfig(flag('--kubeconfig'), cluster);
  } else if (command === 'delete cluster') {
    err(`Deleting cluster "${cluster}" ...`);
    const nodes = nodesOf(cluster);
    if (nodes.length > 0) docker('rm', '--force', '--volumes', ...nodes);
    err(`Deleted nodes: ${JSON.stringify(nodes)}`);
  } else {
    err(`ERROR: unknown command "${args.join(' ')}" for "kind"`);
    finish(1);
  }
} catch (e) {
  err(`ERROR: ${e.stderr?.toString().trim() || e.message}`);
  finish(1);
}
finish(0);
