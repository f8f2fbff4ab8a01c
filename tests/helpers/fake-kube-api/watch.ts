/**
 * GET …?watch=1: newline-delimited JSON events `{"type":"ADDED","object":{…}}` on a
 * response kept open. From a resourceVersion, the changes after it; without one,
 * ADDED for every current object first, as the real server does.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { groupVersionOf, type ResourceType } from './resources.js';
import type { Change, ObjectStore, StoredObject } from './store.js';

export interface WatchRequest {
  resource: ResourceType;
  namespace?: string;
  matches: (object: StoredObject) => boolean;
  resourceVersion?: string;
  timeoutSeconds?: number;
}

/** `open` holds the responses of open watches, so the server can end them when it closes. */
export function serveWatch(req: IncomingMessage, res: ServerResponse, store: ObjectStore, watch: WatchRequest, open: Set<ServerResponse>): void {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
  // Headers go out at once, as from the real server: a client waits for them before reading events.
  res.flushHeaders();
  open.add(res);
  const send = (type: string, object: StoredObject) => {
    res.write(`${JSON.stringify({ type, object: { ...object, apiVersion: groupVersionOf(watch.resource) } })}\n`);
  };
  const relevant = (change: Change) =>
    change.resource.group === watch.resource.group &&
    change.resource.name === watch.resource.name &&
    (watch.namespace === undefined || change.object.metadata.namespace === watch.namespace) &&
    watch.matches(change.object);
  const from = Number(watch.resourceVersion ?? '0');
  if (from > 0) {
    for (const change of store.changesSince(from)) if (relevant(change)) send(change.type, change.object);
  } else {
    for (const object of store.list(watch.resource, watch.namespace)) if (watch.matches(object)) send('ADDED', object);
  }
  const unsubscribe = store.subscribe((change) => {
    if (relevant(change)) send(change.type, change.object);
  });
  const timer = watch.timeoutSeconds ? setTimeout(() => res.end(), watch.timeoutSeconds * 1_000) : undefined;
  const finish = () => {
    unsubscribe();
    clearTimeout(timer);
    open.delete(res);
  };
  res.on('close', finish);
  req.on('close', finish);
}
