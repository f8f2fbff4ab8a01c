/**
 * Pod port-forward over WebSocket, as the kubelet speaks it with the
 * v4.channel.k8s.io subprotocol: for the i-th port, channel 2i carries data and
 * channel 2i+1 errors; every frame starts with its channel byte, and the first frame
 * on each channel is the port as two little-endian bytes. Each port is bridged to
 * the real TCP listener its PodRuntime names; a refused connection is reported on
 * the error channel in the kubelet's words, then the WebSocket closes.
 */
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { PodRuntime } from './pod-runtime.js';

export const PORT_FORWARD_PROTOCOL = 'v4.channel.k8s.io';

export function createPortForwardServer(): WebSocketServer {
  return new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => (offered.has(PORT_FORWARD_PROTOCOL) ? PORT_FORWARD_PROTOCOL : false),
  });
}

/** Upgrades the request and bridges each asked port; `ports` as in ?ports=5001,5002. */
export function servePortForward(wss: WebSocketServer, req: IncomingMessage, socket: Duplex, head: Buffer, runtime: PodRuntime, ports: number[]): void {
  wss.handleUpgrade(req, socket, head, (ws) => {
    const targets: Array<Socket | undefined> = ports.map(() => undefined);
    const connection = { close: () => ws.close(1000, 'pod deleted') };
    runtime.connections.add(connection);
    ws.on('close', () => {
      runtime.connections.delete(connection);
      for (const target of targets) target?.destroy();
    });
    ports.forEach((port, index) => {
      const portBytes = Buffer.alloc(2);
      portBytes.writeUInt16LE(port, 0);
      ws.send(Buffer.concat([Buffer.from([2 * index]), portBytes]));
      ws.send(Buffer.concat([Buffer.from([2 * index + 1]), portBytes]));
      targets[index] = bridge(ws, runtime, port, index);
    });
    ws.on('message', (data: Buffer) => {
      const channel = data[0] ?? 0;
      if (channel % 2 === 0) targets[channel / 2]?.write(data.subarray(1));
    });
  });
}

function bridge(ws: WebSocket, runtime: PodRuntime, port: number, index: number): Socket | undefined {
  const target = runtime.ports.get(port);
  if (!target) {
    reportError(ws, index, runtime, port, 'connect: connection refused');
    return undefined;
  }
  const tcp = connect(target.port, target.host);
  tcp.on('data', (chunk: Buffer) => ws.send(Buffer.concat([Buffer.from([2 * index]), chunk])));
  tcp.on('error', (err) => reportError(ws, index, runtime, port, err.message));
  tcp.on('end', () => ws.close(1000));
  return tcp;
}

function reportError(ws: WebSocket, index: number, runtime: PodRuntime, port: number, reason: string): void {
  if (ws.readyState !== ws.OPEN) return;
  const message = `error forwarding port ${port} to pod ${runtime.name}: failed to connect to localhost:${port} inside namespace: ${reason}`;
  ws.send(Buffer.concat([Buffer.from([2 * index + 1]), Buffer.from(message)]));
  ws.close(1000);
}
