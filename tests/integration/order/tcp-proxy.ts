import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Accepts connections again, on the same port. */
  start(): Promise<void>;
  /** Refuses new connections and cuts the open ones: the broker "goes away". */
  stop(): Promise<void>;
  /**
   * Keeps forwarding what clients send but holds back everything the broker answers
   * (confirms, heartbeats) until the next stop(): a broker that took the messages and
   * never confirmed them.
   */
  holdReplies(): void;
  /** Passes the broker's answers again; what was held is dropped, so held connections stay stuck. */
  releaseReplies(): void;
  readonly connections: number;
}

/**
 * A TCP forwarder to `target` that a test can cut and restore, to simulate a broker
 * outage without touching the shared broker.
 */
export async function createTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  let holding = false;

  const start = async () => {
    const s = createServer((client) => {
      const upstream = createConnection(target);
      for (const sock of [client, upstream]) {
        sockets.add(sock);
        sock.on('close', () => sockets.delete(sock));
        sock.on('error', () => {});
      }
      client.pipe(upstream);
      upstream.on('data', (chunk: Buffer) => {
        if (!holding) client.write(chunk);
      });
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    const address = s.address();
    port = typeof address === 'object' && address ? address.port : port;
    server = s;
  };

  const stop = async () => {
    const s = server;
    server = undefined;
    holding = false;
    for (const sock of sockets) sock.destroy();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  await start();
  return {
    get port() {
      return port;
    },
    get connections() {
      return sockets.size;
    },
    start,
    stop,
    holdReplies: () => {
      holding = true;
    },
    releaseReplies: () => {
      holding = false;
    },
  };
}

/** host and port of an amqp:// URL, for pointing a proxy at the test broker. */
export function amqpTarget(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 5672) };
}

/** `url` with its host and port replaced by the proxy's. */
export function viaProxy(url: string, proxy: TcpProxy): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(proxy.port);
  return u.toString();
}
