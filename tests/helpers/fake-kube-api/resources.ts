/**
 * The resources the fake API server serves, and its discovery documents (/api,
 * /apis, /api/v1, /apis/<group>/<version>) built from them, shaped like the real
 * server's so that KubernetesObjectApi resolves kinds to paths the way it does
 * against a cluster.
 */

export interface ResourceType {
  /** '' for the core group. */
  group: string;
  version: string;
  /** Plural, as in the URL: `deployments`. */
  name: string;
  singularName: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
}

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function kinds(group: string, versions: string[], namespaced: boolean, list: Array<[name: string, kind: string]>): ResourceType[] {
  return versions.flatMap((version) =>
    list.map(([name, kind]) => ({ group, version, name, singularName: kind.toLowerCase(), kind, namespaced })),
  );
}

export const RESOURCE_TYPES: ResourceType[] = [
  ...kinds('', ['v1'], false, [['namespaces', 'Namespace']]),
  ...kinds('', ['v1'], true, [
    ['configmaps', 'ConfigMap'],
    ['endpoints', 'Endpoints'],
    ['events', 'Event'],
    ['persistentvolumeclaims', 'PersistentVolumeClaim'],
    ['pods', 'Pod'],
    ['secrets', 'Secret'],
    ['serviceaccounts', 'ServiceAccount'],
    ['services', 'Service'],
  ]),
  ...kinds('apps', ['v1'], true, [
    ['daemonsets', 'DaemonSet'],
    ['deployments', 'Deployment'],
    ['replicasets', 'ReplicaSet'],
    ['statefulsets', 'StatefulSet'],
  ]),
  ...kinds('batch', ['v1'], true, [['cronjobs', 'CronJob'], ['jobs', 'Job']]),
  ...kinds('autoscaling', ['v2', 'v1'], true, [['horizontalpodautoscalers', 'HorizontalPodAutoscaler']]),
  ...kinds('policy', ['v1'], true, [['poddisruptionbudgets', 'PodDisruptionBudget']]),
  ...kinds('networking.k8s.io', ['v1'], true, [['ingresses', 'Ingress'], ['networkpolicies', 'NetworkPolicy']]),
  ...kinds('rbac.authorization.k8s.io', ['v1'], true, [['rolebindings', 'RoleBinding'], ['roles', 'Role']]),
  ...kinds('rbac.authorization.k8s.io', ['v1'], false, [['clusterrolebindings', 'ClusterRoleBinding'], ['clusterroles', 'ClusterRole']]),
  ...kinds('networking.istio.io', ['v1', 'v1beta1', 'v1alpha3'], true, [
    ['destinationrules', 'DestinationRule'],
    ['gateways', 'Gateway'],
    ['serviceentries', 'ServiceEntry'],
    ['sidecars', 'Sidecar'],
    ['virtualservices', 'VirtualService'],
  ]),
  ...kinds('security.istio.io', ['v1', 'v1beta1'], true, [
    ['authorizationpolicies', 'AuthorizationPolicy'],
    ['peerauthentications', 'PeerAuthentication'],
    ['requestauthentications', 'RequestAuthentication'],
  ]),
  ...kinds('telemetry.istio.io', ['v1', 'v1alpha1'], true, [['telemetries', 'Telemetry']]),
  ...kinds('monitoring.coreos.com', ['v1'], true, [['podmonitors', 'PodMonitor'], ['prometheusrules', 'PrometheusRule'], ['servicemonitors', 'ServiceMonitor']]),
];

/** Subresources listed in discovery after their parent, as the real server does. */
const SUBRESOURCES: Array<{ parent: string; group: string; name: string; kind: string; verbs: string[] }> = [
  { parent: 'pods', group: '', name: 'pods/log', kind: 'Pod', verbs: ['get'] },
  { parent: 'pods', group: '', name: 'pods/portforward', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
  { parent: 'pods', group: '', name: 'pods/status', kind: 'Pod', verbs: ['get', 'patch', 'update'] },
  { parent: 'deployments', group: 'apps', name: 'deployments/scale', kind: 'Scale', verbs: ['get', 'patch', 'update'] },
  { parent: 'deployments', group: 'apps', name: 'deployments/status', kind: 'Deployment', verbs: ['get', 'patch', 'update'] },
  { parent: 'statefulsets', group: 'apps', name: 'statefulsets/status', kind: 'StatefulSet', verbs: ['get', 'patch', 'update'] },
  { parent: 'jobs', group: 'batch', name: 'jobs/status', kind: 'Job', verbs: ['get', 'patch', 'update'] },
];

export function groupVersionOf(type: Pick<ResourceType, 'group' | 'version'>): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

/** The type a URL's group, version and plural name denote. */
export function findResource(group: string, version: string, name: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.group === group && t.version === version && t.name === name);
}

export function findResourceByKind(apiVersion: string, kind: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => groupVersionOf(t) === apiVersion && t.kind === kind);
}

/** GET /api */
export function coreVersions(serverAddress: string): object {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

/** GET /apis */
export function apiGroupList(): object {
  const groups = [...new Set(RESOURCE_TYPES.filter((t) => t.group).map((t) => t.group))];
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groups.map((name) => {
      const versions = [...new Set(RESOURCE_TYPES.filter((t) => t.group === name).map((t) => t.version))];
      const entries = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
      return { name, versions: entries, preferredVersion: entries[0] };
    }),
  };
}

/** GET /api/v1 or /apis/<group>/<version>; undefined for a group version not served. */
export function apiResourceList(group: string, version: string): object | undefined {
  const types = RESOURCE_TYPES.filter((t) => t.group === group && t.version === version);
  if (types.length === 0) return undefined;
  const resources = types.flatMap((t) => [
    { name: t.name, singularName: t.singularName, namespaced: t.namespaced, kind: t.kind, verbs: VERBS, ...(t.shortNames ? { shortNames: t.shortNames } : {}) },
    ...SUBRESOURCES.filter((s) => s.parent === t.name && s.group === group).map((s) => ({
      name: s.name,
      singularName: '',
      namespaced: t.namespaced,
      kind: s.kind,
      verbs: s.verbs,
    })),
  ]);
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersionOf({ group, version }), resources };
}
