/** An order as the storefront shows it: no e-mail address, since the feed is public. */
export interface FeedOrder {
  messageId: string;
  orderId: string | null;
  customerName: string;
  items: Array<{ productId: number; name: string; quantity: number }>;
  itemCount: number;
  total: number;
  currency: string;
  createdAt: string;
  consumedAt: string;
}

export interface FeedSubscriber {
  onOrder: (order: FeedOrder) => void;
  /** The feed is shutting down: end the response so the server can close. */
  onClose: () => void;
}

/**
 * In-process fan-out from the consumer to the open SSE streams of this replica.
 * Synchronous on purpose: a slow client only buffers in its own socket, it never
 * delays the consumer's ack.
 */
export class OrderFeed {
  private subscribers = new Set<FeedSubscriber>();
  private closed = false;

  get size(): number {
    return this.subscribers.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Returns the unsubscribe function; subscribing to a closed feed closes at once. */
  subscribe(subscriber: FeedSubscriber): () => void {
    if (this.closed) {
      subscriber.onClose();
      return () => {};
    }
    this.subscribers.add(subscriber);
    return () => {
      this.subscribers.delete(subscriber);
    };
  }

  publish(order: FeedOrder): void {
    for (const s of [...this.subscribers]) {
      try {
        s.onOrder(order);
      } catch {
        // One broken stream must not stop the others from getting the order.
        this.subscribers.delete(s);
      }
    }
  }

  /** Ends every open stream; later subscribers are closed immediately. */
  close(): void {
    this.closed = true;
    const all = [...this.subscribers];
    this.subscribers.clear();
    for (const s of all) {
      try {
        s.onClose();
      } catch {
        // Already gone; nothing left to end.
      }
    }
  }
}
