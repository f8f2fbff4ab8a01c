/**
 * HTTP/1.1 over a plain socket: fetch and node:http refuse to send much of what a
 * hostile client can (odd methods, raw bytes in the path, invalid UTF-8, oversized or
 * obs-text headers), and these tests are about exactly that.
 */
import { connect } from 'node:net';

export interface RawRequest {
  method: string;
  /** The request target as bytes on the wire (already percent-encoded where wanted). */
  target: string | Buffer;
  headers?: Array<[string, string | Buffer]>;
  body?: Buffer;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The body as JSON when it parses, else undefined. */
  json: unknown;
}

const RESPONSE_TIMEOUT_MS = 15_000;
/** Streams (server-sent events) never end: their head is enough. */
const STREAMING_TYPES = /^text\/event-stream/i;

/** Sends one request on a fresh connection (`Connection: close`) and reads the answer. */
export function sendRaw(baseUrl: string, req: RawRequest): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  const head: Buffer[] = [Buffer.from(`${req.method} `, 'latin1'), asBytes(req.target), Buffer.from(' HTTP/1.1\r\n', 'latin1')];
  const headers: Array<[string, string | Buffer]> = [['Host', `${hostname}:${port}`], ['Connection', 'close'], ...(req.headers ?? [])];
  if (req.body !== undefined && !headers.some(([name]) => /^(content-length|transfer-encoding)$/i.test(name))) {
    headers.push(['Content-Length', String(req.body.length)]);
  }
  for (const [name, value] of headers) head.push(Buffer.from(`${name}: `, 'latin1'), asBytes(value), Buffer.from('\r\n', 'latin1'));
  head.push(Buffer.from('\r\n', 'latin1'));
  const wire = Buffer.concat(req.body ? [...head, req.body] : head);

  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) {
        reject(error);
        return;
      }
      const parsed = parseResponse(Buffer.concat(chunks));
      if (parsed) resolve(parsed);
      else reject(new Error(`no complete HTTP response to ${req.method} ${String(req.target).slice(0, 80)} (${chunks.length} chunks)`));
    };
    const timer = setTimeout(() => finish(new Error(`no answer within ${RESPONSE_TIMEOUT_MS / 1000} s to ${req.method} ${String(req.target).slice(0, 80)}`)), RESPONSE_TIMEOUT_MS);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const soFar = parseHead(Buffer.concat(chunks));
      if (soFar && STREAMING_TYPES.test(soFar.headers['content-type'] ?? '')) finish();
    });
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    // The server may answer (413, 431, 400) and close before it has read everything we send.
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if ((err.code === 'EPIPE' || err.code === 'ECONNRESET') && parseHead(Buffer.concat(chunks))) finish();
      else if (err.code === 'EPIPE' || err.code === 'ECONNRESET') finish(new Error(`connection ${err.code} before any answer`));
      else finish(err);
    });
    socket.write(wire);
  });
}

function asBytes(value: string | Buffer): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
}

function parseHead(data: Buffer, from = 0): { status: number; headers: Record<string, string>; bodyStart: number } | undefined {
  const end = data.indexOf('\r\n\r\n', from);
  if (end === -1) return undefined;
  const [statusLine, ...lines] = data.subarray(from, end).toString('latin1').split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '');
  if (!match) return undefined;
  // An interim answer (100 Continue) comes before the real one.
  if (match[1]!.startsWith('1')) return parseHead(data, end + 4);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const at = line.indexOf(':');
    if (at > 0) headers[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
  }
  return { status: Number(match[1]), headers, bodyStart: end + 4 };
}

function parseResponse(data: Buffer): RawResponse | undefined {
  const head = parseHead(data);
  if (!head) return undefined;
  let body = data.subarray(head.bodyStart);
  if (/chunked/i.test(head.headers['transfer-encoding'] ?? '')) body = dechunk(body);
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    json = undefined;
  }
  return { status: head.status, headers: head.headers, body, json };
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd === -1) break;
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
