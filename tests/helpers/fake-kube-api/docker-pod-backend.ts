/**
 * A PodBackend whose pods are real containers (docs/architecture.md, "Testing"): a pod
 * whose images come from the local registry (`localhost:5050/ecom/<service>:<tag>` in
 * the kind overlay) is run from its spec with Docker - the image pulled from the
 * registry container on 127.0.0.1, the environment resolved as the kubelet does
 * (src/manifests/container-env.ts) from the ConfigMaps and Secrets applied to the fake
 * API, the securityContext, an emptyDir as tmpfs, its ports published on 127.0.0.1
 * (where port-forwards go), its output as the pod's log, Ready when its readiness probe
 * passes. All such containers share one Docker network: a Service selecting them is a
 * network alias; a Service selecting pods that are not containers is a relay on the
 * network's gateway (service-relay.ts).
 *
 * Every other pod is the manual backend's (scenarios), except workloads a test plays
 * with real servers on this machine (`players`: PostgreSQL, RabbitMQ), which start from
 * the pod's resolved environment and give the pod's port targets.
 *
 * Only a test's own setting may be overridden (`envOverrides`), and the test says which
 * and why. `close()` removes every container and the network, even after a failure.
 */
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { resolveContainerEnv } from '../../../src/manifests/container-env.js';
import type { KubeObject } from '../../../src/manifests/objects.js';
import { docker, TEST_DOCKER_CLIENT } from '../docker.js';
import type { FakeCluster } from './cluster.js';
import { inspectContainer, PodContainer, publishedPorts } from './docker-pod-container.js';
import { dockerRunArgs } from './docker-run-args.js';
import { ManualPodBackend } from './pod-backend.js';
import type { PodHandle, PodScenario } from './pod-runtime.js';
import { findResource } from './resources.js';
import { selects, serviceHost, ServiceRelays, serviceSpec } from './service-relay.js';
import type { StoredObject } from './store.js';

const PULL_TIMEOUT_MS = 5 * 60_000;
const RUN_TIMEOUT_MS = 60_000;
const PULL_RETRY_MS = [2_000, 5_000, 10_000, 20_000];
/** Every container and network of the backend carries it (with the run's id in ecom.test.run). */
export const POD_LABEL = 'ecom.test=kind-pods';

export type WorkloadPlayer = (env: Record<string, string>, pod: StoredObject) => Promise<PodScenario>;

export interface DockerPodBackendOptions {
  dockerHost: string;
  /** Images named `<name>/…` run as containers, pulled as `<pullFrom>/…` (the registry's published port). */
  registry: { name: string; pullFrom: string };
  /** Values replacing the resolved environment, by workload (`Deployment/ecommerce/search`). */
  envOverrides?: Record<string, Record<string, string>>;
  /** Workloads played by real servers, by workload key. */
  players?: Record<string, WorkloadPlayer>;
}

interface RunningPod {
  handle: PodHandle;
  containers: PodContainer[];
  stopped: boolean;
  starting: Promise<void>;
}

const CONFIG_MAPS = findResource('', 'v1', 'configmaps')!;
const SECRETS = findResource('', 'v1', 'secrets')!;
const SERVICES = findResource('', 'v1', 'services')!;
const WORKLOADS = [findResource('apps', 'v1', 'deployments')!, findResource('apps', 'v1', 'statefulsets')!];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class DockerPodBackend extends ManualPodBackend {
  readonly runId = randomBytes(4).toString('hex');
  readonly network = `ecom-pods-${this.runId}`;
  /** Why something did not start, for a failing test to print. */
  readonly failures: string[] = [];
  private cluster: FakeCluster | undefined;
  private readonly pods = new Map<string, RunningPod>();
  private readonly pulled = new Set<string>();
  private readonly stopping = new Set<Promise<void>>();
  private networkReady: Promise<{ gateway: string; relays: ServiceRelays }> | undefined;

  constructor(readonly options: DockerPodBackendOptions) {
    super();
  }

  attach(cluster: FakeCluster): void {
    this.cluster = cluster;
  }

  /** The docker names of the pod's containers while it runs. */
  containerNames(namespace: string, pod: string): string[] {
    return this.pods.get(`${namespace}/${pod}`)?.containers.map((c) => c.name) ?? [];
  }

  /** Whether the pod spec runs as containers here: all its images come from the registry. */
  runsAsContainers(spec: IPodSpec | undefined): boolean {
    const containers = spec?.containers ?? [];
    return containers.length > 0 && containers.every((c) => (c.image ?? '').startsWith(`${this.options.registry.name}/`));
  }

  override started(pod: PodHandle, object: StoredObject): void | Promise<void> {
    const spec = object.spec as IPodSpec;
    const player = pod.workload ? this.options.players?.[pod.workload] : undefined;
    if (player) return this.play(pod, object, player);
    if (!this.runsAsContainers(spec)) return super.started(pod);
    const entry: RunningPod = { handle: pod, containers: [], stopped: false, starting: Promise.resolve() };
    this.pods.set(`${pod.namespace}/${pod.name}`, entry);
    entry.starting = this.runPod(entry, object).catch((err: Error) => {
      this.failures.push(`pod ${pod.namespace}/${pod.name}: ${err.message}`);
      for (const name of pod.containerNames) {
        pod.appendLog(name, [`Docker pod backend: ${err.message}`]);
        pod.setContainer(name, { state: 'failed', exitCode: 128 });
      }
    });
  }

  override stopped(pod: PodHandle): Promise<void> {
    const entry = this.pods.get(`${pod.namespace}/${pod.name}`);
    if (!entry) return Promise.resolve();
    entry.stopped = true;
    const stop = (async () => {
      await entry.starting;
      await Promise.all(entry.containers.map((c) => c.stop()));
      this.pods.delete(`${pod.namespace}/${pod.name}`);
    })();
    this.stopping.add(stop);
    return stop.finally(() => this.stopping.delete(stop));
  }

  private play(pod: PodHandle, object: StoredObject, player: WorkloadPlayer): void {
    pod.setScenario({ default: { state: 'starting' } });
    const run = async () => player(resolveContainerEnv(object as KubeObject, this.configObjects()), object);
    run().then(
      (scenario) => pod.setScenario(scenario),
      (err: Error) => {
        this.failures.push(`${pod.workload}: ${err.message}`);
        for (const name of pod.containerNames) pod.setContainer(name, { state: 'failed', exitCode: 1 }, [err.message]);
      },
    );
  }

  private configObjects(): KubeObject[] {
    const store = this.cluster!.store;
    return [...store.list(CONFIG_MAPS), ...store.list(SECRETS)] as KubeObject[];
  }

  private async runPod(entry: RunningPod, object: StoredObject): Promise<void> {
    const spec = object.spec as IPodSpec;
    if (spec.initContainers?.length) throw new Error('init containers are not run by the Docker pod backend');
    const { gateway, relays } = await this.ensureNetwork();
    const dns = await this.podDns(object, gateway, relays);
    for (const container of spec.containers) {
      const image = await this.pull(entry, container);
      if (entry.stopped || !image) return;
      const env = { ...resolveContainerEnv(object as KubeObject, this.configObjects(), container.name), ...this.options.envOverrides?.[entry.handle.workload ?? ''] };
      const name = `ecom-pod-${this.runId}-${entry.handle.name}-${container.name}`;
      const labels = {
        'ecom.test': 'kind-pods',
        'ecom.test.run': this.runId,
        'io.kubernetes.pod.namespace': entry.handle.namespace,
        'io.kubernetes.pod.name': entry.handle.name,
        'io.kubernetes.container.name': container.name,
      };
      const args = dockerRunArgs({ name, podName: entry.handle.name, namespace: entry.handle.namespace, spec, container, image, env, network: this.network, ...dns, labels });
      await this.dockerWithEnv(args, env);
      const state = await inspectContainer(this.options.dockerHost, name);
      if (!state) throw new Error(`container ${name} vanished after docker run`);
      // The container's address on the pod network is the pod's IP: reachable from this machine, as Prometheus scrapes it.
      entry.handle.podIP ??= state.NetworkSettings.Networks[this.network]?.IPAddress;
      const ports = publishedPorts(state);
      for (const [containerPort, hostPort] of ports) entry.handle.setPort(containerPort, { host: '127.0.0.1', port: hostPort });
      const watched = new PodContainer(this.options.dockerHost, name, entry.handle, container, ports, spec.terminationGracePeriodSeconds ?? 30, entry.containers.length === 0 ? this.network : undefined);
      entry.containers.push(watched);
      watched.watch(state.State.StartedAt);
    }
  }

  /** `localhost:5050/ecom/catalog:t` → `127.0.0.1:<port>/ecom/catalog:t`, pulled; retried with back-off as ImagePullBackOff. */
  private async pull(entry: RunningPod, container: IContainer): Promise<string | undefined> {
    const image = `${this.options.registry.pullFrom}/${container.image!.slice(this.options.registry.name.length + 1)}`;
    for (let attempt = 0; !entry.stopped; attempt++) {
      try {
        await docker(this.options.dockerHost, ['pull', '--quiet', image], { timeoutMs: PULL_TIMEOUT_MS });
        this.pulled.add(image);
        return image;
      } catch (err) {
        entry.handle.setContainer(container.name, { state: 'image-pull', message: (err as Error).message.split('\n').pop() });
        await sleep(PULL_RETRY_MS[Math.min(attempt, PULL_RETRY_MS.length - 1)]!);
      }
    }
    return undefined;
  }

  /** Aliases for the Services that select the pod; hosts (and relays) for Services whose pods are not containers. */
  private async podDns(pod: StoredObject, gateway: string, relays: ServiceRelays): Promise<{ aliases: string[]; hosts: Record<string, string> }> {
    const aliases: string[] = [];
    const hosts: Record<string, string> = {};
    const containers = (pod.spec as IPodSpec).containers;
    for (const service of this.cluster!.store.list(SERVICES)) {
      const { selector, ports = [] } = serviceSpec(service);
      if (!selector) continue;
      if (service.metadata.namespace === pod.metadata.namespace && selects(selector, pod.metadata.labels)) {
        for (const port of ports) {
          const target = targetPortNumber(containers, port.targetPort ?? port.port);
          // An alias names the container; it cannot move a port as a Service may.
          if (target !== port.port) throw new Error(`Service ${service.metadata.name} maps port ${port.port} to ${target}; the Docker pod backend needs them equal`);
        }
        aliases.push(serviceHost(service));
      } else if (!this.selectsContainers(service)) {
        await relays.ensure(service);
        hosts[serviceHost(service)] = gateway;
      }
    }
    return { aliases, hosts };
  }

  /** Whether a workload in the Service's namespace that it selects runs as containers here. */
  private selectsContainers(service: StoredObject): boolean {
    const { selector } = serviceSpec(service);
    return WORKLOADS.some((resource) =>
      this.cluster!.store.list(resource, service.metadata.namespace).some((workload) => {
        const template = (workload.spec as { template?: { metadata?: { labels?: Record<string, string> }; spec?: IPodSpec } }).template;
        return selects(selector, template?.metadata?.labels) && this.runsAsContainers(template?.spec);
      }),
    );
  }

  private ensureNetwork(): Promise<{ gateway: string; relays: ServiceRelays }> {
    this.networkReady ??= (async () => {
      const host = this.options.dockerHost;
      await docker(host, ['network', 'create', '--label', POD_LABEL, '--label', `ecom.test.run=${this.runId}`, this.network]);
      const gateway = (await docker(host, ['network', 'inspect', '--format', '{{(index .IPAM.Config 0).Gateway}}', this.network])).trim();
      return { gateway, relays: new ServiceRelays(this.cluster!, gateway) };
    })();
    return this.networkReady;
  }

  /** `docker run` with the container's variables in the client's environment (named, not valued, on the command line). */
  private dockerWithEnv(args: string[], env: Record<string, string>): Promise<void> {
    return new Promise((resolve, reject) => {
      execFile(TEST_DOCKER_CLIENT, args, { env: { ...process.env, ...env, DOCKER_HOST: this.options.dockerHost }, timeout: RUN_TIMEOUT_MS }, (err, _stdout, stderr) =>
        err ? reject(new Error(`docker run failed: ${stderr.trim() || err.message}`)) : resolve(),
      );
    });
  }

  /** Refusals of the Service relays (no Ready pod behind a Service), for a failing test to print. */
  async relayRefusals(): Promise<string[]> {
    return this.networkReady ? (await this.networkReady).relays.refusals : [];
  }

  /** Stops every pod's containers, then removes whatever of this run is left: containers, network, pulled tags. */
  async close(): Promise<void> {
    for (const entry of this.pods.values()) entry.stopped = true;
    await Promise.all([...this.pods.values()].map((entry) => this.stopped(entry.handle)));
    await Promise.all([...this.stopping]);
    const host = this.options.dockerHost;
    const left = (await docker(host, ['ps', '--all', '--quiet', '--filter', `label=ecom.test.run=${this.runId}`]).catch(() => '')).split('\n').filter(Boolean);
    if (left.length > 0) await docker(host, ['rm', '--force', ...left]).catch(() => {});
    if (this.networkReady) {
      const { relays } = await this.networkReady.catch(() => ({ relays: undefined }));
      await relays?.close();
      await docker(host, ['network', 'rm', this.network]).catch(() => {});
    }
    if (this.pulled.size > 0) await docker(host, ['image', 'rm', ...this.pulled]).catch(() => {});
  }
}

/** A Service's targetPort as a number: as given, or the pod's container port of that name. */
function targetPortNumber(containers: IContainer[], targetPort: number | string): number | undefined {
  if (typeof targetPort === 'number' || /^\d+$/.test(targetPort)) return Number(targetPort);
  return containers.flatMap((c) => c.ports ?? []).find((p) => p.name === targetPort)?.containerPort;
}
