/**
 * The fake API server's storage: objects by resource, namespace and name, one
 * cluster-wide resourceVersion counter (as etcd's revision), and the history of
 * changes so a watch can start at any version a list returned.
 */
import { randomUUID } from 'node:crypto';
import { groupVersionOf, type ResourceType } from './resources.js';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }>;
  managedFields?: ManagedFieldsEntry[];
  [key: string]: unknown;
}

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

export interface StoredObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  resourceVersion: number;
  type: EventType;
  resource: ResourceType;
  object: StoredObject;
}

export type ChangeListener = (change: Change) => void;

export class ObjectStore {
  private readonly objects = new Map<string, StoredObject>();
  private readonly history: Change[] = [];
  private readonly listeners = new Set<ChangeListener>();
  private revision = 1;

  get version(): number {
    return this.revision;
  }

  get(resource: ResourceType, namespace: string | undefined, name: string): StoredObject | undefined {
    const found = this.objects.get(keyOf(resource, namespace, name));
    return found && structuredClone(found);
  }

  /** Objects of the resource, in one namespace or all, in name order. */
  list(resource: ResourceType, namespace?: string): StoredObject[] {
    const prefix = `${resource.group}/${resource.name}/`;
    return [...this.objects.entries()]
      .filter(([key, o]) => key.startsWith(prefix) && (namespace === undefined || o.metadata.namespace === namespace))
      .map(([, o]) => structuredClone(o))
      .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  }

  /** Stores the object as given (server fields filled in when missing) under a new resourceVersion. */
  put(resource: ResourceType, object: StoredObject): StoredObject {
    const key = keyOf(resource, object.metadata.namespace, object.metadata.name);
    const existed = this.objects.has(key);
    const stored = structuredClone(object);
    stored.apiVersion = groupVersionOf(resource);
    stored.kind = resource.kind;
    stored.metadata.uid ??= randomUUID();
    stored.metadata.creationTimestamp ??= new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    stored.metadata.resourceVersion = String(++this.revision);
    this.objects.set(key, stored);
    this.record(existed ? 'MODIFIED' : 'ADDED', resource, stored);
    return structuredClone(stored);
  }

  remove(resource: ResourceType, namespace: string | undefined, name: string): StoredObject | undefined {
    const key = keyOf(resource, namespace, name);
    const found = this.objects.get(key);
    if (!found) return undefined;
    this.objects.delete(key);
    const gone = structuredClone(found);
    gone.metadata.resourceVersion = String(++this.revision);
    this.record('DELETED', resource, gone);
    return structuredClone(gone);
  }

  /** Changes after `resourceVersion`, in order. */
  changesSince(resourceVersion: number): Change[] {
    return this.history.filter((c) => c.resourceVersion > resourceVersion);
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private record(type: EventType, resource: ResourceType, object: StoredObject): void {
    const change = { resourceVersion: Number(object.metadata.resourceVersion), type, resource, object: structuredClone(object) };
    this.history.push(change);
    for (const listener of [...this.listeners]) listener(change);
  }
}

function keyOf(resource: ResourceType, namespace: string | undefined, name: string): string {
  return `${resource.group}/${resource.name}/${resource.namespaced ? (namespace ?? '') : ''}/${name}`;
}
