/**
 * Answers in the real API server's shapes: JSON bodies, and failures as `kind: Status`
 * objects carrying code, reason and message, which the client surfaces to ecom.
 */
import type { ServerResponse } from 'node:http';

export type StatusReason = 'NotFound' | 'BadRequest' | 'Unauthorized' | 'MethodNotAllowed' | 'UnsupportedMediaType' | 'Conflict' | 'Invalid' | 'AlreadyExists';

/** A failure to be answered with a Status object. */
export class ApiFailure extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: { name?: string; group?: string; kind?: string },
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function statusObject(failure: ApiFailure): object {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: failure.message,
    reason: failure.reason,
    ...(failure.details ? { details: failure.details } : {}),
    code: failure.code,
  };
}

export function sendFailure(res: ServerResponse, failure: ApiFailure): void {
  sendJson(res, failure.code, statusObject(failure));
}

/** `deployments.apps "catalog" not found`, as the real server words it. */
export function notFound(resource: { group: string; name: string }, name: string): ApiFailure {
  const qualified = resource.group ? `${resource.name}.${resource.group}` : resource.name;
  return new ApiFailure(404, 'NotFound', `${qualified} "${name}" not found`, { name, group: resource.group, kind: resource.name });
}

export function badRequest(message: string): ApiFailure {
  return new ApiFailure(400, 'BadRequest', message);
}
