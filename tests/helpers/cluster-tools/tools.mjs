// The stand-in kind, docker, helm, istioctl and kubectl of the cluster runtime tests
// (tests/helpers/cluster-tools/index.ts). Run as `node tools.mjs <tool> <args…>`; each
// call appends one JSON line {tool, args, start, end} (epoch ms) to calls.jsonl, so a
// test sees the exact argv, the order, and which calls overlapped. They keep what they
// "made" as files under state/ and answer like the real tools from it; helm applies its
// release's Deployment and Service to the in-test API server, as the real chart would.
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [tool, ...args] = process.argv.slice(2);
const dir = process.env.STAND_IN_DIR;
const state = join(dir, 'state');
const start = Number(process.env.STAND_IN_START) || Date.now();
const out = (text) => process.stdout.write(`${text}\n`);
const err = (text) => process.stderr.write(`${text}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// How long the slow commands (create, build, install, upgrade) take.
const slow = Number(process.env.STAND_IN_SLOW_MS ?? 1000);
const file = (...parts) => join(state, ...parts.map((p) => p.replace(/[/:]/g, '_')));
const put = (path, content = '') => (mkdirSync(join(path, '..'), { recursive: true }), writeFileSync(path, content));
const list = (...parts) => (existsSync(file(...parts)) ? readdirSync(file(...parts)) : []);
const flag = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);

/**
 * STAND_IN_RENDEZVOUS="docker build=4,helm upgrade --install a|helm upgrade --install b=2":
 * a call starting with one of an entry's prefixes (`|` between them) waits until that
 * many such calls are in flight (or RENDEZVOUS_LIMIT_MS passed). Calls the runtime
 * starts at once all meet and overlap; calls it runs one after another cannot, and the
 * test sees they did not overlap.
 */
const RENDEZVOUS_LIMIT_MS = 20_000;
async function rendezvous() {
  const line = `${tool} ${args.join(' ')}`;
  for (const entry of (process.env.STAND_IN_RENDEZVOUS ?? '').split(',').filter(Boolean)) {
    const [prefixes, count] = entry.split('=');
    if (!prefixes.split('|').some((prefix) => line.startsWith(prefix))) continue;
    const place = join(state, 'rendezvous', prefixes.replace(/\W+/g, '-'));
    put(join(place, String(process.pid)));
    const until = Date.now() + RENDEZVOUS_LIMIT_MS;
    while (readdirSync(place).length < Number(count) && Date.now() < until) await sleep(50);
  }
}

function finish(code) {
  appendFileSync(join(dir, 'calls.jsonl'), `${JSON.stringify({ tool, args, start, end: Date.now() })}\n`);
  process.exit(code);
}

/** STAND_IN_FAIL="kind create" makes the call whose tool and argv start so fail like the real tool. */
function failing() {
  const wanted = process.env.STAND_IN_FAIL;
  return wanted !== undefined && `${tool} ${args.join(' ')}`.startsWith(wanted);
}

function kubeconfig(path, cluster) {
  const context = `kind-${cluster}`;
  const config = {
    apiVersion: 'v1', kind: 'Config', 'current-context': context, preferences: {},
    clusters: [{ name: context, cluster: { server: process.env.STAND_IN_KUBE_SERVER, 'insecure-skip-tls-verify': true } }],
    users: [{ name: context, user: { token: process.env.STAND_IN_KUBE_TOKEN } }],
    contexts: [{ name: context, context: { cluster: context, user: context } }],
  };
  put(path, JSON.stringify(config, null, 2));
}

async function kind() {
  const name = flag('--name') ?? 'kind';
  const sub = args.slice(0, 2).join(' ');
  if (args[0] === 'version') return out('kind v0.29.0 go1.24.2 linux/amd64');
  if (sub === 'get clusters') {
    const clusters = list('clusters');
    if (clusters.length === 0) err('No kind clusters found.');
    return clusters.forEach((c) => out(c));
  }
  if (sub === 'create cluster') {
    err(`Creating cluster "${name}" ...`);
    await sleep(slow);
    if (failing()) {
      err(' ✗ Preparing nodes 📦');
      err(`ERROR: failed to create cluster: command "docker run --name ${name}-control-plane --publish=127.0.0.1:8080:30080/TCP kindest/node:v1.33.1" failed with error: exit status 125`);
      err(`Command Output: docker: Error response from daemon: driver failed programming external connectivity on endpoint ${name}-control-plane: Bind for 127.0.0.1:8080 failed: port is already allocated.`);
      return finish(1);
    }
    if (existsSync(file('clusters', name))) {
      err(`ERROR: failed to create cluster: node(s) already exist for a cluster with the name "${name}"`);
      return finish(1);
    }
    put(file('clusters', name));
    put(file('networks', 'kind'));
    for (const node of [`${name}-control-plane`, `${name}-worker`]) put(file('nodes', node, '.node'));
    if (flag('--kubeconfig')) kubeconfig(flag('--kubeconfig'), name);
    return err(`Set kubectl context to "kind-${name}"`);
  }
  if (sub === 'export kubeconfig') return kubeconfig(flag('--kubeconfig'), name);
  if (sub === 'delete cluster') {
    err(`Deleting cluster "${name}" ...`);
    rmSync(file('clusters', name), { force: true });
    for (const node of list('nodes').filter((n) => n.startsWith(`${name}-`))) rmSync(file('nodes', node), { recursive: true, force: true });
    return;
  }
  err(`ERROR: unknown command "${args.join(' ')}" for "kind"`);
  finish(1);
}

function container(name) {
  const path = file('containers', name);
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : undefined;
}

async function docker() {
  const [command] = args;
  if (command === 'version') {
    if (args.includes('{{.Client.Version}}')) return out('20.10.24');
    if (process.env.STAND_IN_ENGINE_DOWN) {
      err('Cannot connect to the Docker daemon at unix:///nowhere.sock. Is the docker daemon running?');
      return finish(1);
    }
    return out('28.2.2');
  }
  if (command === 'buildx') return err("docker: 'buildx' is not a docker command."), finish(1);
  if (command === 'image' && args[1] === 'inspect') {
    const ref = args.at(-1);
    if (existsSync(file('images', ref))) return out('230000000');
    return err(`Error: No such image: ${ref}`), finish(1);
  }
  if (command === 'build') {
    await sleep(slow);
    if (failing()) {
      err('#12 [build 6/8] RUN npx tsup');
      err('#12 ERROR: process "/bin/sh -c npx tsup" did not complete successfully: exit code: 1');
      err('ERROR: failed to solve: process "/bin/sh -c npx tsup" did not complete successfully: exit code: 1');
      return finish(1);
    }
    return put(file('images', flag('--tag')));
  }
  if (command === 'tag') return put(file('images', args[2]));
  if (command === 'push') {
    const ref = args[1];
    const local = ref.startsWith('localhost:5050/');
    if (local && container('ecom-registry')?.status !== 'running') {
      err(`Get "http://localhost:5050/v2/": dial tcp 127.0.0.1:5050: connect: connection refused`);
      return finish(1);
    }
    await sleep(slow / 2);
    put(file('registry', ref));
    appendFileSync(join(state, 'pushed.log'), `${ref}\n`);
    return out(`${ref.split(':').at(-1)}: digest: sha256:0 size: 1`);
  }
  if (command === 'container' && args[1] === 'inspect') {
    const found = container(args.at(-1));
    if (!found) return err(`Error: No such container: ${args.at(-1)}`), finish(1);
    return out(args.includes('{{.State.Status}}') ? found.status : JSON.stringify(found.networks));
  }
  if (command === 'run') {
    const name = flag('--name');
    if (container(name)) return err(`docker: Error response from daemon: Conflict. The container name "/${name}" is already in use.`), finish(1);
    put(file('containers', name), JSON.stringify({ status: 'running', image: args.at(-1), networks: { bridge: {} } }));
    return out('4f1c0de0c0ffee');
  }
  if (command === 'start') {
    const found = container(args[1]);
    if (!found) return err(`Error response from daemon: No such container: ${args[1]}`), finish(1);
    return put(file('containers', args[1]), JSON.stringify({ ...found, status: 'running' })), out(args[1]);
  }
  if (command === 'network' && args[1] === 'connect') {
    const [network, name] = args.slice(2);
    if (!existsSync(file('networks', network))) return err(`Error response from daemon: network ${network} not found`), finish(1);
    const found = container(name);
    return put(file('containers', name), JSON.stringify({ ...found, networks: { ...found.networks, [network]: {} } }));
  }
  if (command === 'exec') return dockerExec();
  if (command === 'rm') return rmSync(file('containers', args.at(-1)), { force: true }), out(args.at(-1));
  err(`docker: '${command}' is not a docker command.`);
  finish(1);
}

function dockerExec() {
  const interactive = args[1] === '--interactive';
  const node = args[interactive ? 2 : 1];
  if (!existsSync(file('nodes', node))) return err(`Error response from daemon: No such container: ${node}`), finish(1);
  const hosts = file('nodes', node, 'hosts.toml');
  if (interactive) return put(hosts, readFileSync(0, 'utf8'));
  if (!existsSync(hosts)) return err(`cat: ${args.at(-1)}: No such file or directory`), finish(1);
  process.stdout.write(readFileSync(hosts, 'utf8'));
}

async function apply(object) {
  const { apiVersion, kind, metadata } = object;
  const base = apiVersion === 'v1' ? '/api/v1' : `/apis/${apiVersion}`;
  const url = `${process.env.STAND_IN_KUBE_SERVER}${base}/namespaces/${metadata.namespace}/${kind.toLowerCase()}s/${metadata.name}?fieldManager=helm&force=true`;
  const response = await fetch(url, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${process.env.STAND_IN_KUBE_TOKEN}`, 'content-type': 'application/apply-patch+yaml' },
    body: JSON.stringify(object),
  });
  if (!response.ok) throw new Error(`Error: INSTALLATION FAILED: ${kind} ${metadata.name}: ${await response.text()}`);
}

const RELEASE_PORTS = { prometheus: 9090, grafana: 3000, 'metrics-server': 10250 };

async function helm() {
  if (args[0] === 'version') return out('v3.18.3+g6838ebc');
  const namespace = flag('--namespace');
  if (args[0] === 'list') {
    const name = flag('--filter').replace(/^\^|\$$/g, '');
    const path = file('helm', namespace, name);
    return out(JSON.stringify(existsSync(path) ? [JSON.parse(readFileSync(path, 'utf8'))] : []));
  }
  if (args[0] === 'upgrade') {
    const [name, chart] = args.slice(2, 4);
    await sleep(slow);
    if (failing()) return err(`Error: INSTALLATION FAILED: failed to fetch ${flag('--repo')}/index.yaml : 404 Not Found`), finish(1);
    const labels = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/managed-by': 'Helm' };
    const port = RELEASE_PORTS[name] ?? 8080;
    try {
      await apply({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace, labels }, spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name, image: `${chart}:stand-in`, ports: [{ containerPort: port }] }] } } } });
      await apply({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace, labels }, spec: { selector: labels, ports: [{ port, targetPort: port }] } });
    } catch (e) {
      return err(e.message), finish(1);
    }
    put(file('helm', namespace, name), JSON.stringify({ name, namespace, revision: '1', status: 'deployed', chart: `${chart}-${flag('--version')}`, app_version: 'stand-in' }));
    return out(`Release "${name}" does not exist. Installing it now.\nNAME: ${name}\nNAMESPACE: ${namespace}\nSTATUS: deployed\nREVISION: 1`);
  }
  if (args[0] === 'uninstall') {
    const path = file('helm', namespace, args[1]);
    if (!existsSync(path)) return err(`Error: uninstall: Release not loaded: ${args[1]}: release: not found`), finish(1);
    rmSync(path);
    return out(`release "${args[1]}" uninstalled`);
  }
  err(`Error: unknown command "${args[0]}" for "helm"`);
  finish(1);
}

async function istioctl() {
  if (args[0] === 'version' && args.includes('--remote=false')) return out('client version: 1.26.2');
  if (args[0] === 'version') {
    const installed = existsSync(file('istio'));
    const mesh = installed ? { meshVersion: [{ Component: 'pilot', Revision: 'default', Info: { version: '1.26.2' } }] } : {};
    if (!installed) err('Istio is not present in the cluster: no running Istio pods in namespace "istio-system"');
    return out(JSON.stringify({ clientVersion: { version: '1.26.2', revision: 'stand-in' }, ...mesh }));
  }
  if (args[0] === 'install') {
    await sleep(slow);
    put(file('istio'), '1.26.2');
    return out('✔ Istio core installed ⛵️\n✔ Istiod installed 🧠\n✔ CNI installed 🪢\n✔ Ingress gateways installed 🛬\n✔ Installation complete');
  }
  err(`Error: unknown command "${args[0]}" for "istioctl"`);
  finish(1);
}

function kubectl() {
  if (args[0] === 'version') return out('Client Version: v1.33.1\nKustomize Version: v5.6.0');
  err(`error: unknown command "${args[0]}" for "kubectl"`);
  finish(1);
}

const TOOLS = { kind, docker, helm, istioctl, kubectl };
await rendezvous();
await TOOLS[tool]();
finish(0);
