/**
 * The narrow Kubernetes client ecom uses (docs/architecture.md, "Kubernetes layer"):
 * only the calls the kind and context runtimes need, so tests hand in the real
 * implementation pointed at an in-test API server, and nothing else learns the shape
 * of @kubernetes/client-node. Types come from the library as type-only imports, which
 * erase at build time: importing this file never loads the library.
 */
import type { Readable } from 'node:stream';
import type { Socket } from 'node:net';
import type {
  CoreV1Event,
  V1Deployment,
  V1Job,
  V1Pod,
  V1Service,
  V1StatefulSet,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';

export type { CoreV1Event, V1Deployment, V1Job, V1Pod, V1Service, V1StatefulSet, V2HorizontalPodAutoscaler };

/** The field manager of every server-side apply ecom makes. */
export const FIELD_MANAGER = 'ecom';
/** The label on every object ecom applies; `down` on a shared cluster deletes only these. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'ecom';
export const MANAGED_BY_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

/** Any Kubernetes object, as rendered or as read back. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    resourceVersion?: string;
    generation?: number;
    uid?: string;
    managedFields?: Array<{ manager?: string; operation?: string }>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** Names one object; `namespace` is left out for cluster-scoped kinds. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface ListOptions {
  /** Omitted: every namespace. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

/** What a server-side apply did, judged by the object's resourceVersion before and after. */
export type ApplyOutcome = 'created' | 'configured' | 'unchanged';

export interface ApplyOptions {
  /**
   * Another manager than `ecom` for a field `up` does not render (the restart
   * annotation): `up`'s own apply then neither removes nor fights over it.
   */
  fieldManager?: string;
}

export interface ApplyResult {
  object: KubeObject;
  outcome: ApplyOutcome;
}

/** The kinds ecom reads with their full types, by their resource (plural) name. */
export interface TypedKinds {
  deployments: V1Deployment;
  statefulsets: V1StatefulSet;
  jobs: V1Job;
  pods: V1Pod;
  events: CoreV1Event;
  horizontalpodautoscalers: V2HorizontalPodAutoscaler;
  services: V1Service;
}
export type TypedKind = keyof TypedKinds;

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchHandlers<T> {
  onEvent(type: WatchEventType, object: T): void;
  /** The watch ended: the server closed it (error undefined) or it failed. Not called after stop(). */
  onEnd(error?: Error): void;
}

export interface WatchOptions extends ListOptions {
  /** Events after this version (from a list); omitted: ADDED for every object first. */
  resourceVersion?: string;
}

export interface Stoppable {
  stop(): void;
}

export interface PodLogOptions {
  container: string;
  follow?: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  /** RFC 3339; only one of sinceSeconds and sinceTime. */
  sinceTime?: string;
  /** The container's previous (crashed) run. */
  previous?: boolean;
  /** Each line starts with its RFC 3339 time and a space. */
  timestamps?: boolean;
}

export interface PodLogStream extends Stoppable {
  /** The raw log bytes; ends when the server ends the stream (or after stop()). */
  readonly output: Readable;
}

/** One TCP connection carried to a pod's port over the API server. */
export interface ForwardedConnection {
  /** Settles when either side closed; `error` is what the API server reported on the error channel. */
  readonly closed: Promise<{ error?: string }>;
  close(): void;
}

export interface KubeClient {
  /** The kubeconfig context in use. */
  readonly contextName: string;
  /** The API server URL of that context. */
  readonly server: string;
  /** Server-side apply with field manager `ecom` (or `options.fieldManager`), forcing ownership of conflicting fields. */
  apply(object: KubeObject, options?: ApplyOptions): Promise<ApplyResult>;
  /** Undefined when the object does not exist. */
  get(ref: ObjectRef): Promise<KubeObject | undefined>;
  listObjects(apiVersion: string, kind: string, options?: ListOptions): Promise<KubeObject[]>;
  /** False when it was already gone. */
  delete(ref: ObjectRef): Promise<boolean>;
  read<K extends TypedKind>(kind: K, namespace: string, name: string): Promise<TypedKinds[K] | undefined>;
  list<K extends TypedKind>(kind: K, options?: ListOptions): Promise<{ items: TypedKinds[K][]; resourceVersion?: string }>;
  watch<K extends TypedKind>(kind: K, options: WatchOptions, handlers: WatchHandlers<TypedKinds[K]>): Promise<Stoppable>;
  podLog(namespace: string, pod: string, options: PodLogOptions): Promise<PodLogStream>;
  /** Carries `socket` to `port` of the pod; resolves once the API server accepted the stream. */
  forwardConnection(namespace: string, pod: string, port: number, socket: Socket): Promise<ForwardedConnection>;
}
