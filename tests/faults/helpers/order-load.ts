/**
 * A client placing orders the way a careful one does: every order has its own
 * Idempotency-Key, and a request that fails (5xx, no answer, a timeout) is sent again
 * with the same key and body until it is accepted. Every answer is recorded, so a test
 * can assert what each request saw, not only the end state.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface Answer {
  key: string;
  /** HTTP status, or what went wrong before one came. */
  status: number | 'timeout' | 'network';
  contentType: string;
  body: unknown;
  /** Which fault phase the request was sent in (the test names them). */
  phase: string;
}

export interface OrderLoadOptions {
  /** POST target, e.g. the frontend's /api/orders. */
  url: string;
  /** The client's own deadline per request: no answer by then is a 'timeout'. */
  requestTimeoutMs: number;
  /** Pause before sending a failed order again. */
  retryDelayMs: number;
  /** Gives up on an order after this many attempts (the test then fails on it). */
  maxAttempts: number;
  keyPrefix: string;
  /** Past this many ms after the load was made, no order is started or retried: a test stays bounded. */
  giveUpAfterMs: number;
}

export interface SendOptions {
  count: number;
  concurrency: number;
  /** Each worker's pause between orders, to spread a phase over time. */
  pauseMs?: number;
  /** Stop starting new orders once this settles (orders in flight still finish). */
  until?: Promise<unknown>;
}

export class OrderLoad {
  /** Idempotency key to the order id the service answered with. */
  readonly accepted = new Map<string, string>();
  readonly answers: Answer[] = [];
  /** Keys sent; those missing from `accepted` were given up on. */
  readonly keys: string[] = [];
  phase = 'start';

  private readonly giveUpAt: number;

  constructor(private readonly options: OrderLoadOptions) {
    this.giveUpAt = Date.now() + options.giveUpAfterMs;
  }

  /** Places `count` new orders with `concurrency` workers; resolves when each is accepted or given up. */
  async send({ count, concurrency, pauseMs = 0, until }: SendOptions): Promise<void> {
    let stop = false;
    void until?.finally(() => (stop = true));
    const first = this.keys.length;
    let next = 0;
    const worker = async () => {
      while (!stop && next < count && Date.now() < this.giveUpAt) {
        const key = `${this.options.keyPrefix}-${first + next++}`;
        this.keys.push(key);
        await this.place(key);
        if (pauseMs > 0) await sleep(pauseMs);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }

  /** Sends one order until it is accepted, refused for good, or out of attempts. */
  private async place(key: string): Promise<void> {
    const index = Number(key.slice(key.lastIndexOf('-') + 1));
    const body = JSON.stringify({
      customer: { email: `fault${index}@example.com`, name: `Fault ${index}` },
      items: [{ productId: 1 + (index % 5), quantity: 1 + (index % 3) }],
    });
    for (let attempt = 1; attempt <= this.options.maxAttempts && Date.now() < this.giveUpAt; attempt++) {
      const answer = await this.post(key, body);
      this.answers.push(answer);
      if (answer.status === 201 || answer.status === 200) {
        this.accepted.set(key, (answer.body as { id: string }).id);
        return;
      }
      // A 4xx other than 409/429 will not change on a retry.
      if (typeof answer.status === 'number' && answer.status < 500 && answer.status !== 409 && answer.status !== 429) return;
      await sleep(this.options.retryDelayMs);
    }
  }

  private async post(key: string, body: string): Promise<Answer> {
    const phase = this.phase;
    try {
      const res = await fetch(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body,
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
      });
      const contentType = res.headers.get('content-type') ?? '';
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // kept as text: the test reports it
      }
      return { key, status: res.status, contentType, body: parsed, phase };
    } catch (err) {
      const name = (err as Error).name;
      const status = name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network';
      return { key, status, contentType: '', body: (err as Error).message, phase };
    }
  }
}

/** Counts answers by phase and status, for messages that say what happened. */
export function tally(answers: Answer[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const a of answers) {
    const byStatus = (out[a.phase] ??= {});
    byStatus[String(a.status)] = (byStatus[String(a.status)] ?? 0) + 1;
  }
  return out;
}
