import { createHash } from 'node:crypto';

export interface CachedPage {
  body: Buffer;
  etag: string;
  /** The route pattern that produced it, for metrics when answered before routing. */
  route: string;
}

const MAX_PAGES = 2_000;

/**
 * Serialized responses with their ETag, dropped whenever the catalogue changes.
 * A generation counter stops a read that began before an invalidation from storing
 * its (stale) result after it.
 */
export class PageCache {
  private pages = new Map<string, CachedPage>();
  private generation = 0;
  private enabled = false;

  /** Caching is on only while the change listener is connected. */
  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
    this.invalidate();
  }

  get size(): number {
    return this.pages.size;
  }

  get(key: string): CachedPage | undefined {
    return this.enabled ? this.pages.get(key) : undefined;
  }

  /** Produces the page through `load` unless cached; stores it if nothing changed meanwhile. */
  async getOrLoad(key: string, route: string, load: () => Promise<unknown>): Promise<CachedPage> {
    const hit = this.get(key);
    if (hit) return hit;
    const generation = this.generation;
    const page = serialize(await load(), route);
    if (this.enabled && generation === this.generation) {
      if (this.pages.size >= MAX_PAGES) this.pages.clear();
      this.pages.set(key, page);
    }
    return page;
  }

  invalidate(): void {
    this.generation++;
    this.pages.clear();
  }
}

export function serialize(value: unknown, route: string): CachedPage {
  const body = Buffer.from(JSON.stringify(value));
  const etag = `"${createHash('sha1').update(body).digest('base64url').slice(0, 27)}"`;
  return { body, etag, route };
}
