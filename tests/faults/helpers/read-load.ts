/**
 * Readers that keep asking a set of GET paths until told to stop, recording every
 * answer with the phase it was sent in.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Answer } from './order-load.js';

export interface ReadAnswer extends Omit<Answer, 'key'> {
  path: string;
}

export class ReadLoad {
  readonly answers: ReadAnswer[] = [];
  phase = 'start';
  private stopped = false;
  private running: Promise<void>[] = [];

  constructor(
    private readonly baseUrl: string,
    private readonly paths: () => string[],
    private readonly requestTimeoutMs: number,
  ) {}

  start(readers: number, pauseMs: number): void {
    this.running = Array.from({ length: readers }, async (_, reader) => {
      for (let i = reader; !this.stopped; i++) {
        const paths = this.paths();
        await this.get(paths[i % paths.length]!);
        await sleep(pauseMs);
      }
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.running);
  }

  private async get(path: string): Promise<void> {
    const phase = this.phase;
    try {
      const res = await fetch(this.baseUrl + path, { signal: AbortSignal.timeout(this.requestTimeoutMs) });
      const contentType = res.headers.get('content-type') ?? '';
      const text = await res.text();
      let body: unknown = text;
      if (/json/.test(contentType)) {
        try {
          body = JSON.parse(text);
        } catch {
          // kept as text: the test reports it
        }
      }
      this.answers.push({ path, status: res.status, contentType, body, phase });
    } catch (err) {
      const name = (err as Error).name;
      const status = name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network';
      this.answers.push({ path, status, contentType: '', body: (err as Error).message, phase });
    }
  }
}
