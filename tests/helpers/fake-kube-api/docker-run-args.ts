/**
 * How the Docker pod backend turns one container of a pod into `docker run` arguments,
 * the way a kubelet would start it: the image and command, the environment (passed by
 * name, the values coming from the docker client's environment, so no secret is on a
 * command line), the pod's and the container's securityContext (numeric user and
 * group, read-only root filesystem, dropped capabilities, no privilege gain), a tmpfs
 * for each emptyDir mount, each container port published on 127.0.0.1, and the pod's
 * DNS: Service names as network aliases, the cluster's search domains.
 * Pure: the tests of this file need no engine. What a kubelet would refuse to start
 * (root under runAsNonRoot, a privileged container, a volume it cannot give) throws.
 */
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { ISecurityContext } from 'kubernetes-models/v1/SecurityContext';

export const CLUSTER_DOMAIN = 'cluster.local';

export interface ContainerRunInputs {
  /** The docker container's name. */
  name: string;
  podName: string;
  namespace: string;
  spec: IPodSpec;
  container: IContainer;
  /** The image reference to run (already rewritten to the registry the engine pulls from). */
  image: string;
  /** Variable names only go on the command line; the values travel in the client's environment. */
  env: Record<string, string>;
  network: string;
  /** `<service>.<namespace>.svc.cluster.local` of every Service that selects the pod. */
  aliases: string[];
  /** Extra /etc/hosts entries: a Service's name → the address its relay listens on. */
  hosts: Record<string, string>;
  labels: Record<string, string>;
}

/** Effective security settings: the container's own over the pod's. */
export interface EffectiveSecurity {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  drop: string[];
  add: string[];
  supplementalGroups: number[];
}

export function effectiveSecurity(spec: IPodSpec, container: IContainer): EffectiveSecurity {
  const pod = spec.securityContext ?? {};
  const own: ISecurityContext = container.securityContext ?? {};
  if (own.privileged) throw new Error(`container ${container.name}: privileged containers are not run by the Docker pod backend`);
  return {
    runAsUser: own.runAsUser ?? pod.runAsUser,
    runAsGroup: own.runAsGroup ?? pod.runAsGroup,
    runAsNonRoot: own.runAsNonRoot ?? pod.runAsNonRoot,
    readOnlyRootFilesystem: own.readOnlyRootFilesystem,
    allowPrivilegeEscalation: own.allowPrivilegeEscalation,
    drop: own.capabilities?.drop ?? [],
    add: own.capabilities?.add ?? [],
    supplementalGroups: [...(pod.fsGroup === undefined ? [] : [pod.fsGroup]), ...(pod.supplementalGroups ?? [])],
  };
}

const QUANTITY_UNITS: Record<string, number> = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, k: 1e3, M: 1e6, G: 1e9 };

/** `64Mi` → bytes. */
export function quantityBytes(quantity: string | number): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|k|M|G)?$/.exec(String(quantity));
  if (!match) throw new Error(`unsupported quantity ${quantity}`);
  return Math.round(Number(match[1]) * QUANTITY_UNITS[match[2] ?? '']!);
}

/** A tmpfs per emptyDir mount (the node's disk does not matter to the tests); any other volume is refused. */
function volumeArgs(spec: IPodSpec, container: IContainer): string[] {
  return (container.volumeMounts ?? []).flatMap((mount) => {
    const volume = (spec.volumes ?? []).find((v) => v.name === mount.name);
    if (!volume) throw new Error(`container ${container.name}: volume ${mount.name} is not in the pod`);
    if (!volume.emptyDir) throw new Error(`container ${container.name}: volume ${mount.name} is not an emptyDir, which is all the Docker pod backend gives`);
    const size = volume.emptyDir.sizeLimit === undefined ? [] : [`size=${quantityBytes(volume.emptyDir.sizeLimit as string)}`];
    // An emptyDir is world-writable (0777) and executable, unlike Docker's default tmpfs.
    return ['--tmpfs', `${mount.mountPath}:${[mount.readOnly ? 'ro' : 'rw', 'exec', 'mode=1777', ...size].join(',')}`];
  });
}

function securityArgs(security: EffectiveSecurity, container: IContainer): string[] {
  if (security.runAsNonRoot && security.runAsUser === 0) throw new Error(`container ${container.name}: runAsNonRoot with runAsUser 0`);
  const args: string[] = [];
  if (security.runAsUser !== undefined) args.push('--user', security.runAsGroup === undefined ? String(security.runAsUser) : `${security.runAsUser}:${security.runAsGroup}`);
  for (const group of security.supplementalGroups) args.push('--group-add', String(group));
  if (security.readOnlyRootFilesystem) args.push('--read-only');
  for (const cap of security.drop) args.push('--cap-drop', cap);
  for (const cap of security.add) args.push('--cap-add', cap);
  if (security.allowPrivilegeEscalation === false) args.push('--security-opt', 'no-new-privileges');
  return args;
}

/** The container's ports, by number. */
export function containerPorts(container: IContainer): number[] {
  return (container.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP').map((p) => p.containerPort);
}

/** A port given by number or by the container port's name. */
export function resolvePort(container: IContainer, port: number | string): number {
  if (typeof port === 'number' || /^\d+$/.test(port)) return Number(port);
  const named = (container.ports ?? []).find((p) => p.name === port);
  if (!named) throw new Error(`container ${container.name} has no port named ${port}`);
  return named.containerPort;
}

/** The whole `docker run` argv (after `docker`), detached. */
export function dockerRunArgs(inputs: ContainerRunInputs): string[] {
  const { container, spec, namespace } = inputs;
  const command = container.command ?? [];
  const search = [`${namespace}.svc.${CLUSTER_DOMAIN}`, `svc.${CLUSTER_DOMAIN}`, CLUSTER_DOMAIN];
  return [
    'run', '--detach',
    '--name', inputs.name,
    '--hostname', inputs.podName.slice(0, 63),
    ...Object.entries(inputs.labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
    // restartPolicy Always, as a Deployment's pods have it: the engine restarts a crashed container.
    '--restart', 'always',
    '--network', inputs.network,
    ...inputs.aliases.flatMap((alias) => ['--network-alias', alias]),
    ...Object.entries(inputs.hosts).flatMap(([name, address]) => ['--add-host', `${name}:${address}`]),
    // The cluster's search domains for short names, but Docker's ndots:0 rather than the
    // cluster's ndots:5: every search-domain try of a full name would go to this
    // machine's resolver (seconds each), where CoreDNS answers a cluster at once.
    ...search.flatMap((domain) => ['--dns-search', domain]),
    ...securityArgs(effectiveSecurity(spec, container), container),
    ...volumeArgs(spec, container),
    ...containerPorts(container).flatMap((port) => ['--publish', `127.0.0.1::${port}/tcp`]),
    ...Object.keys(inputs.env).flatMap((name) => ['--env', name]),
    ...(container.workingDir ? ['--workdir', container.workingDir] : []),
    ...(command.length > 0 ? ['--entrypoint', command[0]!] : []),
    inputs.image,
    ...command.slice(1),
    ...(container.args ?? []),
  ];
}
