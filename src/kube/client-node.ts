/**
 * KubeClient over @kubernetes/client-node. Only connect.ts imports this file, lazily,
 * so the library loads when a command first talks to a cluster and never for
 * `ecom --help` (docs/architecture.md, "Kubernetes layer").
 */
import * as k8s from '@kubernetes/client-node';
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import { apiStatusCode, toKubeError } from './api-errors.js';
import { loadKubeconfig, type KubeTarget } from './kubeconfig.js';
import { RawObjectApi } from './client-objects.js';
import { forwardConnection, podLog } from './client-streams.js';
import {
  type ApplyOptions,
  type ApplyResult,
  type KubeClient,
  type KubeObject,
  type ListOptions,
  type ObjectRef,
  type Stoppable,
  type TypedKind,
  type TypedKinds,
  type WatchHandlers,
  type WatchOptions,
} from './types.js';

/** Reads the kubeconfig (checked first: errors are one line) and builds the client. */
export function createKubeClient(target: KubeTarget): KubeClient {
  const kc = new k8s.KubeConfig();
  const { context } = loadKubeconfig(kc, target);
  return new ClientNodeKube(kc, context);
}

interface TypedCalls {
  /** The API path of the kind's group version. */
  groupPath: string;
  /** The library's model class name, for turning watch JSON into typed objects. */
  model: string;
  list(namespace: string | undefined, query: { labelSelector?: string; fieldSelector?: string }): Promise<{ items: unknown[]; metadata?: { resourceVersion?: string } }>;
  read(namespace: string, name: string): Promise<unknown>;
}

function typedCalls(kc: k8s.KubeConfig): Record<TypedKind, TypedCalls> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const autoscaling = kc.makeApiClient(k8s.AutoscalingV2Api);
  return {
    deployments: {
      groupPath: '/apis/apps/v1', model: 'V1Deployment',
      list: (ns, q) => (ns ? apps.listNamespacedDeployment({ namespace: ns, ...q }) : apps.listDeploymentForAllNamespaces(q)),
      read: (namespace, name) => apps.readNamespacedDeployment({ namespace, name }),
    },
    statefulsets: {
      groupPath: '/apis/apps/v1', model: 'V1StatefulSet',
      list: (ns, q) => (ns ? apps.listNamespacedStatefulSet({ namespace: ns, ...q }) : apps.listStatefulSetForAllNamespaces(q)),
      read: (namespace, name) => apps.readNamespacedStatefulSet({ namespace, name }),
    },
    jobs: {
      groupPath: '/apis/batch/v1', model: 'V1Job',
      list: (ns, q) => (ns ? batch.listNamespacedJob({ namespace: ns, ...q }) : batch.listJobForAllNamespaces(q)),
      read: (namespace, name) => batch.readNamespacedJob({ namespace, name }),
    },
    pods: {
      groupPath: '/api/v1', model: 'V1Pod',
      list: (ns, q) => (ns ? core.listNamespacedPod({ namespace: ns, ...q }) : core.listPodForAllNamespaces(q)),
      read: (namespace, name) => core.readNamespacedPod({ namespace, name }),
    },
    events: {
      groupPath: '/api/v1', model: 'CoreV1Event',
      list: (ns, q) => (ns ? core.listNamespacedEvent({ namespace: ns, ...q }) : core.listEventForAllNamespaces(q)),
      read: (namespace, name) => core.readNamespacedEvent({ namespace, name }),
    },
    horizontalpodautoscalers: {
      groupPath: '/apis/autoscaling/v2', model: 'V2HorizontalPodAutoscaler',
      list: (ns, q) =>
        ns ? autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace: ns, ...q }) : autoscaling.listHorizontalPodAutoscalerForAllNamespaces(q),
      read: (namespace, name) => autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace, name }),
    },
    services: {
      groupPath: '/api/v1', model: 'V1Service',
      list: (ns, q) => (ns ? core.listNamespacedService({ namespace: ns, ...q }) : core.listServiceForAllNamespaces(q)),
      read: (namespace, name) => core.readNamespacedService({ namespace, name }),
    },
  };
}

class ClientNodeKube implements KubeClient {
  readonly server: string;
  private readonly objects: RawObjectApi;
  private readonly typed: Record<TypedKind, TypedCalls>;

  constructor(
    private readonly kc: k8s.KubeConfig,
    readonly contextName: string,
  ) {
    this.server = kc.getCurrentCluster()?.server ?? '';
    this.objects = RawObjectApi.create(kc);
    this.typed = typedCalls(kc);
  }

  async apply(object: KubeObject, options: ApplyOptions = {}): Promise<ApplyResult> {
    const before = await this.get(refOf(object));
    const after = await this.call(`apply ${describe(refOf(object))}`, () => this.objects.serverSideApply(object, options.fieldManager));
    const outcome = !before ? 'created' : before.metadata.resourceVersion === after.metadata.resourceVersion ? 'unchanged' : 'configured';
    return { object: after, outcome };
  }

  async get(ref: ObjectRef): Promise<KubeObject | undefined> {
    return this.orUndefinedWhenMissing(`read ${describe(ref)}`, () => this.objects.readRaw(ref));
  }

  async listObjects(apiVersion: string, kind: string, options: ListOptions = {}): Promise<KubeObject[]> {
    return this.call(`list ${kind}`, () => this.objects.listRaw(apiVersion, kind, options));
  }

  async delete(ref: ObjectRef): Promise<boolean> {
    const spec = { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } };
    const deleted = await this.orUndefinedWhenMissing(`delete ${describe(ref)}`, async () => {
      await this.objects.delete(spec, undefined, undefined, undefined, undefined, 'Background');
      return true;
    });
    return deleted ?? false;
  }

  async read<K extends TypedKind>(kind: K, namespace: string, name: string): Promise<TypedKinds[K] | undefined> {
    return this.orUndefinedWhenMissing(`read ${kind} ${namespace}/${name}`, async () => (await this.typed[kind].read(namespace, name)) as TypedKinds[K]);
  }

  async list<K extends TypedKind>(kind: K, options: ListOptions = {}): Promise<{ items: TypedKinds[K][]; resourceVersion?: string }> {
    const { namespace, labelSelector, fieldSelector } = options;
    const list = await this.call(`list ${kind}`, () => this.typed[kind].list(namespace, { labelSelector, fieldSelector }));
    return { items: list.items as TypedKinds[K][], resourceVersion: list.metadata?.resourceVersion };
  }

  async watch<K extends TypedKind>(kind: K, options: WatchOptions, handlers: WatchHandlers<TypedKinds[K]>): Promise<Stoppable> {
    const { groupPath, model } = this.typed[kind];
    const path = options.namespace ? `${groupPath}/namespaces/${options.namespace}/${kind}` : `${groupPath}/${kind}`;
    const query = { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector, resourceVersion: options.resourceVersion };
    let stopped = false;
    // The library may report the end before it returns its controller (a refused connection).
    const opened: { controller?: AbortController } = {};
    const end = (error?: Error) => {
      if (stopped) return;
      stopped = true;
      opened.controller?.abort();
      handlers.onEnd(error);
    };
    opened.controller = await new k8s.Watch(this.kc).watch(
      path,
      query,
      (type, object: unknown) => {
        if (stopped) return;
        if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') {
          handlers.onEvent(type, ObjectSerializer.deserialize(object, model, '') as TypedKinds[K]);
        } else if (type === 'ERROR') {
          end(new Error((object as { message?: string }).message ?? 'the API server ended the watch with an error'));
        }
      },
      (err: unknown) => end(err ? toKubeError(err, this.context(`watch ${kind}`)) : undefined),
    );
    if (stopped) opened.controller.abort();
    return {
      stop: () => {
        stopped = true;
        opened.controller?.abort();
      },
    };
  }

  podLog: KubeClient['podLog'] = (namespace, pod, options) =>
    this.call(`read the log of pod ${namespace}/${pod}`, () => podLog(this.kc, namespace, pod, options));

  forwardConnection: KubeClient['forwardConnection'] = (namespace, pod, port, socket) =>
    this.call(`forward to pod ${namespace}/${pod} port ${port}`, () => forwardConnection(this.kc, namespace, pod, port, socket));

  private context(action: string) {
    return { action, server: this.server, contextName: this.contextName };
  }

  private async call<T>(action: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw toKubeError(err, this.context(action));
    }
  }

  private async orUndefinedWhenMissing<T>(action: string, run: () => Promise<T>): Promise<T | undefined> {
    try {
      return await run();
    } catch (err) {
      if (apiStatusCode(err) === 404) return undefined;
      throw toKubeError(err, this.context(action));
    }
  }
}

function refOf(object: KubeObject): ObjectRef {
  return { apiVersion: object.apiVersion, kind: object.kind, name: object.metadata.name, namespace: object.metadata.namespace };
}

function describe(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}
