/**
 * Server-side apply as the fake server does it: maps merge key by key, lists are
 * atomic (the real server merges some lists by key, e.g. containers by name; ecom
 * always applies whole objects, so atomic lists give the same result), fields the
 * manager applied before and no longer applies are removed, ownership is recorded
 * in managedFields (FieldsV1), a conflict with another applier's field is a 409
 * unless forced, and an apply that changes nothing writes nothing (same
 * resourceVersion, no watch event), like the real one.
 */
import { isDeepStrictEqual } from 'node:util';
import { ApiFailure } from './http-status.js';
import type { ManagedFieldsEntry, StoredObject } from './store.js';

type Json = Record<string, unknown>;
type Path = string[];

const SERVER_OWNED_METADATA = ['uid', 'resourceVersion', 'creationTimestamp', 'generation', 'managedFields', 'deletionTimestamp'];

export interface ApplyRequest {
  existing: StoredObject | undefined;
  applied: StoredObject;
  manager: string;
  force: boolean;
  now?: Date;
}

/** The object to store, or `changed: false` when the apply is a no-op. */
export function serverSideApply(request: ApplyRequest): { object: StoredObject; changed: boolean } {
  const { existing, manager, force } = request;
  const time = (request.now ?? new Date()).toISOString().replace(/\.\d+Z$/, 'Z');
  const applied = withoutServerFields(request.applied);
  // The real server records no ownership of what names the object.
  const appliedPaths = leafPaths(applied).filter((p) => !(p.length === 2 && p[0] === 'metadata' && (p[1] === 'name' || p[1] === 'namespace')));
  if (!existing) {
    const object = finishWrite(applied);
    if ('spec' in object) object.metadata.generation = 1;
    object.metadata.managedFields = [managedEntry(manager, object.apiVersion, time, appliedPaths)];
    return { object, changed: true };
  }
  const entries = existing.metadata.managedFields ?? [];
  if (!force) checkConflicts(entries, manager, existing, applied, appliedPaths);
  const mine = entries.find((e) => e.manager === manager && e.operation === 'Apply');
  const othersOwn = new Set(entries.filter((e) => e !== mine).flatMap((e) => decodeFields(e.fieldsV1)).map(pathKey));
  const appliedKeys = new Set(appliedPaths.map(pathKey));
  const merged = withoutServerFields(existing);
  for (const path of mine ? decodeFields(mine.fieldsV1) : []) {
    if (!appliedKeys.has(pathKey(path)) && !othersOwn.has(pathKey(path))) removePath(merged, path);
  }
  const object = finishWrite(deepMerge(merged, applied) as StoredObject);
  const before = withoutServerFields(existing);
  const ownershipChanged = !mine || !isDeepStrictEqual(mine.fieldsV1, encodeFields(appliedPaths));
  if (isDeepStrictEqual(object, before) && !ownershipChanged) return { object: existing, changed: false };
  for (const field of SERVER_OWNED_METADATA) if (field in existing.metadata) object.metadata[field] = structuredClone(existing.metadata[field]);
  if (!isDeepStrictEqual(object.spec, before.spec)) object.metadata.generation = (existing.metadata.generation ?? 0) + 1;
  // Forcing takes only the fields whose value changes; one applied with the same value is co-owned, as on the real server.
  const taken = new Set(appliedPaths.filter((p) => !isDeepStrictEqual(valueAt(existing, p), valueAt(applied, p))).map(pathKey));
  const others = entries.filter((e) => e !== mine).map((e) => (force ? withoutPaths(e, taken) : e)).filter((e) => Object.keys(e.fieldsV1).length > 0);
  object.metadata.managedFields = [...others, managedEntry(manager, object.apiVersion, time, appliedPaths)];
  if ('status' in existing) object.status = structuredClone(existing.status);
  return { object, changed: true };
}

/** A write the real server transforms: a Secret's stringData becomes base64 data. */
function finishWrite(object: StoredObject): StoredObject {
  if (object.kind === 'Secret' && object.stringData && typeof object.stringData === 'object') {
    const data = { ...((object.data as Json | undefined) ?? {}) };
    for (const [key, value] of Object.entries(object.stringData as Json)) data[key] = Buffer.from(String(value)).toString('base64');
    object.data = data;
    delete object.stringData;
  }
  return object;
}

function checkConflicts(entries: ManagedFieldsEntry[], manager: string, existing: StoredObject, applied: Json, paths: Path[]): void {
  for (const entry of entries) {
    if (entry.manager === manager || entry.operation !== 'Apply') continue;
    const owned = new Set(decodeFields(entry.fieldsV1).map(pathKey));
    const conflicting = paths.filter((p) => owned.has(pathKey(p)) && !isDeepStrictEqual(valueAt(existing, p), valueAt(applied, p)));
    if (conflicting.length > 0) {
      const fields = conflicting.map((p) => `.${p.join('.')}`).join(', ');
      throw new ApiFailure(409, 'Conflict', `Apply failed with ${conflicting.length} conflict(s): conflict with "${entry.manager}": ${fields}`);
    }
  }
}

function withoutServerFields(object: StoredObject): StoredObject {
  const copy = structuredClone(object);
  delete copy.status;
  for (const field of SERVER_OWNED_METADATA) delete copy.metadata[field];
  return copy;
}

function withoutPaths(entry: ManagedFieldsEntry, keys: Set<string>): ManagedFieldsEntry {
  const kept = decodeFields(entry.fieldsV1).filter((p) => !keys.has(pathKey(p)));
  return { ...entry, fieldsV1: encodeFields(kept) };
}

function managedEntry(manager: string, apiVersion: string, time: string, paths: Path[]): ManagedFieldsEntry {
  return { manager, operation: 'Apply', apiVersion, time, fieldsType: 'FieldsV1', fieldsV1: encodeFields(paths) };
}

/** Every leaf: a scalar, a list (atomic) or an empty map. apiVersion and kind are not owned fields. */
function leafPaths(value: Json, prefix: Path = []): Path[] {
  return Object.entries(value).flatMap(([key, child]) => {
    if (prefix.length === 0 && (key === 'apiVersion' || key === 'kind')) return [];
    const path = [...prefix, key];
    return isMap(child) && Object.keys(child).length > 0 ? leafPaths(child, path) : [path];
  });
}

/** Paths as FieldsV1: `{"f:metadata":{"f:labels":{"f:app":{}}}}`. */
export function encodeFields(paths: Path[]): Json {
  const root: Json = {};
  for (const path of paths) {
    let node = root;
    for (const key of path) node = (node[`f:${key}`] ??= {}) as Json;
  }
  return root;
}

export function decodeFields(fields: Json, prefix: Path = []): Path[] {
  const entries = Object.entries(fields).filter(([key]) => key.startsWith('f:'));
  if (entries.length === 0) return prefix.length > 0 ? [prefix] : [];
  return entries.flatMap(([key, child]) => decodeFields(child as Json, [...prefix, key.slice(2)]));
}

function deepMerge(base: Json, overlay: Json): Json {
  const result: Json = { ...base };
  for (const [key, value] of Object.entries(overlay)) {
    const current = result[key];
    result[key] = isMap(current) && isMap(value) ? deepMerge(current, value) : structuredClone(value);
  }
  return result;
}

function removePath(object: Json, path: Path): void {
  const parents: Json[] = [object];
  for (const key of path.slice(0, -1)) {
    const next = parents[parents.length - 1]![key];
    if (!isMap(next)) return;
    parents.push(next);
  }
  delete parents[parents.length - 1]![path[path.length - 1]!];
  // Drop maps the removal left empty, as the real server does.
  for (let i = parents.length - 1; i > 0; i--) {
    if (Object.keys(parents[i]!).length > 0) break;
    delete parents[i - 1]![path[i - 1]!];
  }
}

function valueAt(object: Json, path: Path): unknown {
  let value: unknown = object;
  for (const key of path) value = isMap(value) ? value[key] : undefined;
  return value;
}

function isMap(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function pathKey(path: Path): string {
  return JSON.stringify(path);
}
