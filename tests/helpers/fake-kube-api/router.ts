/**
 * The fake API server's HTTP surface: bearer-token auth, discovery, and per resource
 * GET (one or a `…List` with metadata.resourceVersion), list with label and field
 * selectors, watch, PATCH as server-side apply only, DELETE, and pods' log
 * subresource. Failures are Status objects with the real server's codes and words.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { serverSideApply } from './apply.js';
import type { FakeCluster } from './cluster.js';
import { ApiFailure, badRequest, notFound, sendFailure, sendJson } from './http-status.js';
import { servePodLog } from './pod-logs.js';
import { apiGroupList, apiResourceList, coreVersions, findResource, groupVersionOf, type ResourceType } from './resources.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import type { ObjectStore, StoredObject } from './store.js';
import { serveWatch } from './watch.js';
import { defaultJob } from './workloads.js';

const APPLY_CONTENT_TYPE = 'application/apply-patch+yaml';
const NAMESPACES = findResource('', 'v1', 'namespaces')!;

export interface RouterContext {
  store: ObjectStore;
  cluster: FakeCluster;
  token: string;
  serverAddress: string;
  openWatches: Set<ServerResponse>;
  /** Every request as `METHOD path?query`, for tests that assert what the client asked. */
  requests: string[];
}

/** A request path resolved against the resource table. */
export interface ResourcePath {
  resource: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export function authorized(req: IncomingMessage, token: string): boolean {
  return req.headers.authorization === `Bearer ${token}`;
}

export async function route(req: IncomingMessage, res: ServerResponse, ctx: RouterContext): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://fake');
  ctx.requests.push(`${req.method} ${url.pathname}${url.search}`);
  try {
    if (!authorized(req, ctx.token)) throw new ApiFailure(401, 'Unauthorized', 'Unauthorized');
    const discovery = discoveryAnswer(url.pathname, ctx.serverAddress);
    if (discovery !== undefined) return sendJson(res, 200, discovery);
    const target = parseResourcePath(url.pathname);
    if (!target) throw new ApiFailure(404, 'NotFound', 'the server could not find the requested resource');
    await handle(req, res, url.searchParams, target, ctx);
  } catch (err) {
    if (res.headersSent) return void res.end();
    sendFailure(res, err instanceof ApiFailure ? err : new ApiFailure(400, 'BadRequest', err instanceof Error ? err.message : String(err)));
  }
}

function discoveryAnswer(path: string, serverAddress: string): object | undefined {
  if (path === '/api') return coreVersions(serverAddress);
  if (path === '/apis') return apiGroupList();
  const core = /^\/api\/(v1)\/?$/.exec(path);
  if (core) return apiResourceList('', core[1]!) ?? undefined;
  const group = /^\/apis\/([^/]+)\/([^/]+)\/?$/.exec(path);
  if (group) {
    const list = apiResourceList(group[1]!, group[2]!);
    if (!list) throw new ApiFailure(404, 'NotFound', 'the server could not find the requested resource');
    return list;
  }
  return undefined;
}

export function parseResourcePath(path: string): ResourcePath | undefined {
  const match = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))\/(.+)$/.exec(path);
  if (!match) return undefined;
  const [, coreVersion, group = '', groupVersion] = match;
  const version = coreVersion ?? groupVersion!;
  const parts = match[4]!.split('/').filter(Boolean).map(decodeURIComponent);
  const namespaced = parts[0] === 'namespaces' && parts.length >= 3;
  const [namespace, resourceName, name, subresource] = namespaced ? parts.slice(1) : [undefined, ...parts];
  const resource = resourceName ? findResource(group, version, resourceName) : undefined;
  if (!resource || (namespaced && !resource.namespaced)) return undefined;
  return { resource, namespace, name, subresource };
}

async function handle(req: IncomingMessage, res: ServerResponse, query: URLSearchParams, target: ResourcePath, ctx: RouterContext): Promise<void> {
  const { resource, namespace, name, subresource } = target;
  const method = req.method ?? 'GET';
  if (subresource === 'log' && resource.name === 'pods' && method === 'GET') {
    const runtime = ctx.cluster.runtime(namespace ?? '', name ?? '');
    if (!runtime || !ctx.store.get(resource, namespace, name ?? '')) throw notFound(resource, name ?? '');
    return servePodLog(req, res, runtime, query);
  }
  if (subresource) throw new ApiFailure(404, 'NotFound', 'the server could not find the requested resource');
  if (!name) {
    if (method !== 'GET') throw new ApiFailure(405, 'MethodNotAllowed', `${method} is not supported on a collection by this server`);
    return listOrWatch(req, res, query, target, ctx);
  }
  if (method === 'GET') {
    const found = ctx.store.get(resource, namespace, name);
    if (!found) throw notFound(resource, name);
    return sendJson(res, 200, inVersion(found, resource));
  }
  if (method === 'PATCH') return apply(req, res, query, { resource, namespace, name }, ctx);
  if (method === 'DELETE') {
    const gone = ctx.store.remove(resource, namespace, name);
    if (!gone) throw notFound(resource, name);
    return sendJson(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: resource.group, kind: resource.name, uid: gone.metadata.uid } });
  }
  throw new ApiFailure(405, 'MethodNotAllowed', `${method} is not supported by this server`);
}

function listOrWatch(req: IncomingMessage, res: ServerResponse, query: URLSearchParams, target: ResourcePath, ctx: RouterContext): void {
  const { resource, namespace } = target;
  const labels = parseLabelSelector(query.get('labelSelector'));
  const fields = parseFieldSelector(query.get('fieldSelector'), resource.kind);
  const matches = (o: StoredObject) => labels(o.metadata.labels) && fields(o);
  if (query.get('watch') === 'true' || query.get('watch') === '1') {
    const timeoutSeconds = query.get('timeoutSeconds') ? Number(query.get('timeoutSeconds')) : undefined;
    return serveWatch(req, res, ctx.store, { resource, namespace, matches, resourceVersion: query.get('resourceVersion') ?? undefined, timeoutSeconds }, ctx.openWatches);
  }
  // List items carry no kind or apiVersion of their own, as from the real server.
  const items = ctx.store.list(resource, namespace).filter(matches).map(({ apiVersion: _v, kind: _k, ...item }) => item);
  sendJson(res, 200, { kind: `${resource.kind}List`, apiVersion: groupVersionOf(resource), metadata: { resourceVersion: String(ctx.store.version) }, items });
}

async function apply(req: IncomingMessage, res: ServerResponse, query: URLSearchParams, target: Required<Omit<ResourcePath, 'subresource' | 'namespace'>> & { namespace?: string }, ctx: RouterContext): Promise<void> {
  const { resource, namespace, name } = target;
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
  if (contentType !== APPLY_CONTENT_TYPE) {
    throw new ApiFailure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${APPLY_CONTENT_TYPE} (this fake server applies only)`);
  }
  const manager = query.get('fieldManager');
  if (!manager) throw new ApiFailure(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
  const body = parseYaml(await readBody(req)) as StoredObject | null;
  if (!body || typeof body !== 'object' || !body.metadata) throw badRequest('the body of an apply patch must be an object with metadata');
  if (body.apiVersion !== groupVersionOf(resource) || body.kind !== resource.kind) {
    throw badRequest(`the API version in the data (${body.apiVersion}) and kind (${body.kind}) do not match the object path ${groupVersionOf(resource)} ${resource.kind}`);
  }
  if (body.metadata.name !== name) throw badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
  if (resource.namespaced) {
    if (body.metadata.namespace && body.metadata.namespace !== namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    if (!ctx.store.get(NAMESPACES, undefined, namespace ?? '')) throw notFound(NAMESPACES, namespace ?? '');
    body.metadata.namespace = namespace;
  }
  const existing = ctx.store.get(resource, namespace, name);
  const { object, changed } = serverSideApply({ existing, applied: body, manager, force: query.get('force') === 'true' });
  if (!changed) return sendJson(res, 200, inVersion(existing!, resource));
  if (!existing) defaultOnCreate(object, ctx.store);
  const stored = ctx.store.put(resource, object);
  sendJson(res, existing ? 200 : 201, inVersion(stored, resource));
}

/** Fields the real server fills in on create (only those ecom could observe). */
function defaultOnCreate(object: StoredObject, store: ObjectStore): void {
  object.metadata.uid ??= randomUUID();
  if (object.kind === 'Job') defaultJob(object);
  if (object.kind === 'Namespace') object.status = { phase: 'Active' };
  if (object.kind === 'Service') {
    const spec = (object.spec ??= {}) as { type?: string; clusterIP?: string };
    spec.type ??= 'ClusterIP';
    spec.clusterIP ??= `10.96.${Math.floor(store.version / 250) % 250}.${(store.version % 250) + 1}`;
  }
}

function inVersion(object: StoredObject, resource: ResourceType): StoredObject {
  return { ...object, apiVersion: groupVersionOf(resource) };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
