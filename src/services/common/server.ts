import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Express } from 'express';

export interface RunningServer {
  server: Server;
  port: number;
  /** Stops accepting, lets in-flight requests finish, then runs `onClose` hooks. */
  close: () => Promise<void>;
}

/** What every service's `start…Service(config, logger)` returns. */
export interface RunningService {
  port: number;
  /** Stops accepting, finishes in-flight requests, then closes workers, channels and pools. */
  close: () => Promise<void>;
}

/**
 * Listens and ties the service's resources to the server: `release` runs when
 * listening fails, and after the server has stopped (in-flight requests done) on close.
 */
export async function serve(app: Express, port: number, host: string, release: () => Promise<void>): Promise<RunningService> {
  let server: RunningServer;
  try {
    server = await listen(app, port, host);
  } catch (err) {
    await release();
    throw err;
  }
  return {
    port: server.port,
    close: async () => {
      await server.close();
      await release();
    },
  };
}

export async function listen(app: Express, port: number, host: string): Promise<RunningServer> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(s)));
    s.once('error', reject);
  });
  // Keep-alive sockets would otherwise hold `close()` open until they time out.
  server.keepAliveTimeout = 5_000;
  server.on('clientError', answerClientErrorInJson);
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  return {
    server,
    port: boundPort,
    close: () =>
      new Promise<void>((resolve, reject) => {
        // Keep-alive connections that go idle only after their in-flight request ends
        // would hold close() open until keepAliveTimeout; sweep them as they go idle.
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        server.close((err) => {
          clearInterval(sweep);
          if (err) reject(err);
          else resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

/**
 * Requests Node's HTTP parser refuses (oversized headers, invalid characters) never
 * reach Express; Node would answer them with an empty body. Keep the JSON contract.
 */
function answerClientErrorInJson(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || (err as { code?: string }).code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
  const body = JSON.stringify({
    error: {
      code: tooLarge ? 'headers_too_large' : 'bad_request',
      message: tooLarge ? 'request line or headers are too large' : 'malformed HTTP request',
      details: [],
    },
  });
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
