/**
 * Many producers (one per pod log stream, a pod watch) feeding one async iterator the
 * caller reads at its own pace; values wait in order until read.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly values: T[] = [];
  private wake: (() => void) | undefined;
  private closed = false;

  push(value: T): void {
    if (this.closed) return;
    this.values.push(value);
    this.wake?.();
  }

  /** Ends the iteration once the values already pushed are read. */
  close(): void {
    this.closed = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      const next = this.values.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}
