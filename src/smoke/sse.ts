/**
 * A minimal server-sent events reader over fetch: enough to watch the storefront's
 * live order feed for one order id.
 */

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

/**
 * Calls `onEvent` for every event on the stream until the signal aborts or the server
 * ends the stream. Rejects when the stream cannot be opened.
 */
export async function readEventStream(url: string, onEvent: (event: SseEvent) => void, signal: AbortSignal): Promise<void> {
  const res = await fetch(url, { headers: { accept: 'text/event-stream' }, signal });
  if (res.status !== 200 || !res.body) {
    await res.body?.cancel();
    throw new Error(`GET ${url} → HTTP ${res.status}`);
  }
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, '\n');
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = parseBlock(block);
        if (event) onEvent(event);
      }
    }
  } catch (err) {
    if (!signal.aborted) throw err;
  }
}

/** One event block; comments (heartbeats) and retry-only blocks give undefined. */
export function parseBlock(block: string): SseEvent | undefined {
  let event = 'message';
  let id: string | undefined;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  }
  if (data.length === 0) return undefined;
  return { event, data: data.join('\n'), id };
}
