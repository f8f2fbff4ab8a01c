/**
 * The streaming calls of the client-node KubeClient: a pod's log and one TCP
 * connection forwarded to a pod port over the API server's WebSocket. Loaded only
 * through client-node.ts.
 */
import type { Socket } from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import type { ForwardedConnection, PodLogOptions, PodLogStream } from './types.js';

export async function podLog(kc: k8s.KubeConfig, namespace: string, pod: string, options: PodLogOptions): Promise<PodLogStream> {
  const output = new PassThrough();
  const { container, ...query } = options;
  const controller = await new k8s.Log(kc).log(namespace, pod, container, output, query);
  return {
    output,
    stop: () => {
      controller.abort();
      // An aborted response is unpiped, not ended: end the stream for whoever reads it.
      output.end();
    },
  };
}

/**
 * Opens the WebSocket for one connection and ties both ends together: data both ways,
 * and when either side closes, the other closes too (the library leaves the socket
 * open when the WebSocket closes).
 */
export async function forwardConnection(kc: k8s.KubeConfig, namespace: string, pod: string, port: number, socket: Socket): Promise<ForwardedConnection> {
  const reported: string[] = [];
  const errorChannel = new Writable({
    write(chunk: Buffer, _encoding, done) {
      reported.push(chunk.toString('utf8'));
      done();
    },
  });
  // Writes may race a closing socket; the close handling below is what ends the connection.
  socket.on('error', () => undefined);
  const opened = await new k8s.PortForward(kc, true).portForward(namespace, pod, [port], socket, errorChannel, socket);
  if (typeof opened === 'function') throw new Error('port-forward returned a reconnecting stream; expected one WebSocket');
  const ws = opened;
  const closed = new Promise<{ error?: string }>((resolve) => {
    const finish = () => {
      socket.destroy();
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close();
      const error = reported.join('').trim();
      resolve(error ? { error } : {});
    };
    ws.on('close', finish);
    ws.on('error', finish);
    socket.on('close', finish);
  });
  return { closed, close: () => socket.destroy() };
}
