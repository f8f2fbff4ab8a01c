/**
 * A port-forward to a Service that survives redeploys (docs/architecture.md,
 * "Port-forwards"): it listens on 127.0.0.1:<localPort> for its whole life; on every
 * (re)connect it resolves a Ready pod behind the Service, waits for the pod's
 * istio-proxy when it has one, then carries each local connection to that pod over
 * the API server. It watches the pod and re-resolves when the pod goes, turns
 * unready or a stream fails, backing off with a cap while nothing answers.
 * Connections arriving meanwhile are held and carried once it is ready again, so a
 * replaced pod costs a client a short wait, not an error.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { V1Pod } from '@kubernetes/client-node';
import { EcomError, ExitCode } from '../core/errors.js';
import { backoffDelayMs, pollUntil, systemClock } from '../core/poll.js';
import { isAppReady, isProxyReady, resolveTarget, type ForwardTarget } from './forward-target.js';
import { isTerminating } from './pods.js';
import type { ForwardedConnection, KubeClient, Stoppable } from './types.js';

export type ForwardState = 'connecting' | 'ready' | 'backoff' | 'stopped';

export interface ForwardStatus {
  namespace: string;
  service: string;
  localPort: number;
  state: ForwardState;
  /** The pod connections go to (while ready) or were last going to. */
  pod?: string;
  /** How many times the forward became ready again after losing its pod or stream. */
  reconnects: number;
  lastError?: string;
  /** What a connecting forward waits for: "istio-proxy in pod catalog-7d9-x2k4p". */
  waitingFor?: string;
}

export interface ServiceForwardOptions {
  namespace: string;
  service: string;
  /** A Service port, by number or name. */
  servicePort: number | string;
  localPort: number;
  /** Default 127.0.0.1: a forward is for this machine only. */
  host?: string;
  /** Back-off between failed attempts: from `initialBackoffMs`, doubling, never above `maxBackoffMs`. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long a pod's istio-proxy may take to become ready before the pod is given up. */
  proxyTimeoutMs?: number;
  onStatus?: (status: ForwardStatus) => void;
}

const DEFAULT_INITIAL_BACKOFF_MS = 250;
const DEFAULT_MAX_BACKOFF_MS = 5_000;
const DEFAULT_PROXY_TIMEOUT_MS = 60_000;
const PROXY_POLL_MS = 200;
/** A held connection that fails to open this often is dropped instead of held again. */
const MAX_ATTEMPTS_PER_CONNECTION = 3;

interface Session {
  target: ForwardTarget;
  lost: Promise<string>;
  markLost(reason: string): void;
  /** Set by markLost: the forward is leaving this pod. */
  ended: boolean;
  watch?: Stoppable;
}

export class ServiceForward {
  private readonly server: Server;
  private readonly stopping = new AbortController();
  private status_: ForwardStatus;
  private session: Session | undefined;
  private everReady = false;
  private readonly held = new Map<Socket, number>();
  private readonly open = new Set<ForwardedConnection>();
  /** Every local connection not yet closed, so stop() never waits on one. */
  private readonly sockets = new Set<Socket>();
  private running: Promise<void> | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly options: ServiceForwardOptions,
  ) {
    this.status_ = { namespace: options.namespace, service: options.service, localPort: options.localPort, state: 'connecting', reconnects: 0 };
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      this.accept(socket, 0);
    });
  }

  status(): ForwardStatus {
    return { ...this.status_ };
  }

  /** Listens on the local port (an EcomError when it is taken), then connects in the background. */
  async start(): Promise<void> {
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          err.code === 'EADDRINUSE'
            ? new EcomError(`port ${this.options.localPort} on ${host} is taken; cannot forward service ${this.options.service} there`, 'stop what listens there or pick another port', ExitCode.failed)
            : err,
        ),
      );
      this.server.listen(this.options.localPort, host, () => resolve());
    });
    this.running = this.run();
  }

  /** Resolves once ready; a TimeoutError names the last problem otherwise. */
  async waitUntilReady(timeoutMs: number): Promise<void> {
    await pollUntil(
      (attempt) => {
        if (this.status_.state === 'ready') return true;
        attempt.waiting(this.status_.waitingFor ?? this.status_.lastError ?? this.status_.state);
        return undefined;
      },
      { what: `the port-forward to service ${this.options.namespace}/${this.options.service}`, timeoutMs, intervalMs: 50, signal: this.stopping.signal },
    );
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    for (const connection of this.open) connection.close();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.running;
    this.update({ state: 'stopped', waitingFor: undefined });
  }

  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    for (let failures = 0; !signal.aborted; ) {
      this.update({ state: 'connecting' });
      let target: ForwardTarget;
      try {
        target = await resolveTarget(this.client, this.options.namespace, this.options.service, this.options.servicePort);
        if (target.hasProxy) await this.waitForProxy(target);
      } catch (err) {
        if (signal.aborted) break;
        failures++;
        this.update({ state: 'backoff', lastError: messageOf(err), waitingFor: undefined });
        const delay = backoffDelayMs(failures, { intervalMs: this.options.initialBackoffMs ?? DEFAULT_INITIAL_BACKOFF_MS, maxIntervalMs: this.options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS, backoff: 2 });
        await systemClock.sleep(delay, signal);
        continue;
      }
      failures = 0;
      const reason = await this.serve(target);
      if (!signal.aborted) this.update({ lastError: reason });
    }
  }

  /** Ready on `target` until it is lost; returns why. */
  private async serve(target: ForwardTarget): Promise<string> {
    const session = newSession(target);
    this.session = session;
    // stop() may come while this session is being set up: it ends the session too.
    const stop = () => session.markLost('stopped');
    this.stopping.signal.addEventListener('abort', stop, { once: true });
    if (this.stopping.signal.aborted) stop();
    try {
      await this.watchPod(session);
      if (!session.ended) this.becomeReady(target);
      return await session.lost;
    } finally {
      this.stopping.signal.removeEventListener('abort', stop);
      this.session = undefined;
      session.watch?.stop();
    }
  }

  private becomeReady(target: ForwardTarget): void {
    const reconnects = this.status_.reconnects + (this.everReady ? 1 : 0);
    this.everReady = true;
    this.update({ state: 'ready', pod: target.pod, reconnects, waitingFor: undefined });
    for (const [socket, attempts] of [...this.held]) {
      this.held.delete(socket);
      this.accept(socket, attempts);
    }
  }

  private async waitForProxy(target: ForwardTarget): Promise<void> {
    this.update({ waitingFor: `istio-proxy in pod ${target.pod}` });
    await pollUntil(
      async () => {
        const pod = await this.client.read('pods', this.options.namespace, target.pod);
        if (!pod || pod.metadata?.uid !== target.uid || isTerminating(pod)) throw new Error(`pod ${target.pod} went away while its istio-proxy started`);
        return isProxyReady(pod) ? true : undefined;
      },
      { what: `istio-proxy in pod ${target.pod} to be ready`, timeoutMs: this.options.proxyTimeoutMs ?? DEFAULT_PROXY_TIMEOUT_MS, intervalMs: PROXY_POLL_MS, signal: this.stopping.signal },
    );
  }

  /** Marks the session lost when its pod is deleted, replaced or turns unready. */
  private async watchPod(session: Session): Promise<void> {
    const { pod } = session.target;
    // API servers end watches after a while: that says nothing about the pod, so look and watch again.
    const onEnd = (error?: Error) => {
      if (error) session.markLost(`watching pod ${pod} failed: ${error.message}`);
      else if (!session.ended) void this.recheckPod(session);
    };
    try {
      const query = { namespace: this.options.namespace, fieldSelector: `metadata.name=${pod}` };
      session.watch = await this.client.watch('pods', query, { onEvent: (type, object) => checkPod(session, type, object), onEnd });
      if (session.ended) session.watch.stop();
    } catch (err) {
      session.markLost(`cannot watch pod ${pod}: ${messageOf(err)}`);
    }
  }

  private async recheckPod(session: Session): Promise<void> {
    try {
      const pod = await this.client.read('pods', this.options.namespace, session.target.pod);
      checkPod(session, pod ? 'MODIFIED' : 'DELETED', pod);
      if (!session.ended) await this.watchPod(session);
    } catch (err) {
      session.markLost(`cannot check pod ${session.target.pod}: ${messageOf(err)}`);
    }
  }

  private accept(socket: Socket, attempts: number): void {
    socket.on('error', () => undefined);
    const session = this.session;
    if (this.status_.state !== 'ready' || !session) {
      this.held.set(socket, attempts);
      socket.once('close', () => this.held.delete(socket));
      return;
    }
    void this.carry(socket, session, attempts);
  }

  private async carry(socket: Socket, session: Session, attempts: number): Promise<void> {
    const { pod, port } = session.target;
    let connection: ForwardedConnection;
    try {
      connection = await this.client.forwardConnection(this.options.namespace, pod, port, socket);
    } catch (err) {
      session.markLost(`cannot open a stream to pod ${pod}: ${messageOf(err)}`);
      // Nothing was read from the socket yet: it can wait for the next pod.
      if (attempts + 1 < MAX_ATTEMPTS_PER_CONNECTION && !socket.destroyed) this.accept(socket, attempts + 1);
      else socket.destroy();
      return;
    }
    this.open.add(connection);
    const { error } = await connection.closed;
    this.open.delete(connection);
    if (error) session.markLost(`pod ${pod} port ${port}: ${error}`);
  }

  private update(change: Partial<ForwardStatus>): void {
    this.status_ = { ...this.status_, ...change };
    for (const key of Object.keys(this.status_) as Array<keyof ForwardStatus>) if (this.status_[key] === undefined) delete this.status_[key];
    this.options.onStatus?.(this.status());
  }
}

function newSession(target: ForwardTarget): Session {
  let resolveLost: (reason: string) => void = () => undefined;
  const session: Session = {
    target,
    lost: new Promise<string>((resolve) => (resolveLost = resolve)),
    ended: false,
    markLost: (reason) => {
      session.ended = true;
      resolveLost(reason);
    },
  };
  return session;
}

function checkPod(session: Session, type: string, object: V1Pod | undefined): void {
  const { pod, uid } = session.target;
  if (type === 'DELETED' || !object || object.metadata?.uid !== uid) session.markLost(`pod ${pod} was deleted`);
  else if (isTerminating(object)) session.markLost(`pod ${pod} is terminating`);
  else if (!isAppReady(object)) session.markLost(`pod ${pod} is no longer ready`);
}

function messageOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}
