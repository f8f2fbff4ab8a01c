/**
 * The forwarder process (its own tsup entry, `runtime/cluster/forwarder`): started by
 * `startForwarder` as `node forwarder.js --state-dir <dir>`, it reads its plan from
 * forwarder.json, opens every forward (src/kube/port-forward.ts: a Ready pod behind
 * the Service on every reconnect, the istio-proxy awaited, capped back-off,
 * reconnects counted), keeps forwards.json current, logs each change as a JSON line
 * (stdout is logs/forwarder.log), and on SIGTERM closes everything and exits 0
 * (docs/architecture.md, "Port-forwards").
 */
import { CONSOLE_BASE_PORT } from '../../core/system.js';
import { connectKube } from '../../kube/connect.js';
import { ServiceForward, type ForwardStatus } from '../../kube/port-forward.js';
import { readClusterRecord } from './context.js';
import { readForwarderRecord, writeConsoleUrl, writeStatesFile, type ForwardSpec, type ForwardState, type ForwardStatesFile } from './forwarder-files.js';

type Level = 'info' | 'warn' | 'error';

function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level, service: 'forwarder', pid: process.pid, msg, ...fields })}\n`);
}

/** What each forward is doing, written to forwards.json (bursts coalesced into one write). */
class StatesWriter {
  private readonly file: ForwardStatesFile;
  private queued = false;

  constructor(
    private readonly stateDir: string,
    specs: ForwardSpec[],
  ) {
    const forwards: ForwardState[] = specs.map((s) => ({ name: s.name, localPort: s.localPort, state: 'connecting', reconnects: 0 }));
    this.file = { pid: process.pid, updatedAt: new Date().toISOString(), listening: false, forwards };
  }

  update(index: number, status: ForwardStatus): void {
    const before = this.file.forwards[index]!;
    const after: ForwardState = { name: before.name, localPort: status.localPort, state: status.state, reconnects: status.reconnects };
    if (status.pod) after.pod = status.pod;
    if (status.lastError) after.lastError = status.lastError;
    if (status.waitingFor) after.waitingFor = status.waitingFor;
    this.file.forwards[index] = after;
    this.logChange(before, after);
    this.save();
  }

  /** A line per new state or pod, and per new error (a lost pod, a failed stream) in between. */
  private logChange(before: ForwardState, after: ForwardState): void {
    const { name, localPort, ...fields } = after;
    if (before.state !== after.state || before.pod !== after.pod) {
      log(after.state === 'backoff' ? 'warn' : 'info', `forward ${name} (127.0.0.1:${localPort}) ${after.state}`, { forward: name, ...fields });
    } else if (after.lastError && before.lastError !== after.lastError) {
      log('warn', `forward ${name}: ${after.lastError}`, { forward: name, error: after.lastError });
    }
  }

  listening(): void {
    this.file.listening = true;
    this.save(true);
  }

  failed(message: string, spec?: ForwardSpec, portTaken = false): void {
    this.file.error = { message, ...(spec ? { forward: spec.name } : {}), ...(portTaken && spec ? { localPort: spec.localPort } : {}) };
    this.save(true);
  }

  save(now = false): void {
    if (now) return this.write();
    if (this.queued) return;
    this.queued = true;
    setImmediate(() => this.write());
  }

  private write(): void {
    this.queued = false;
    this.file.updatedAt = new Date().toISOString();
    writeStatesFile(this.stateDir, this.file);
  }
}

/** Opens every forward; on the first that cannot listen, closes the others and says which. */
async function openForwards(specs: ForwardSpec[], states: StatesWriter, target: { kubeconfigPath?: string; context?: string }): Promise<ServiceForward[]> {
  const client = await connectKube(target);
  log('info', `connected to ${client.server} (context ${client.contextName})`);
  const forwards = specs.map(
    (spec, i) =>
      new ServiceForward(client, { namespace: spec.namespace, service: spec.service, servicePort: spec.port, localPort: spec.localPort, onStatus: (s) => states.update(i, s) }),
  );
  const started = await Promise.allSettled(forwards.map((f) => f.start()));
  const failed = started.findIndex((r) => r.status === 'rejected');
  if (failed < 0) return forwards;
  await Promise.all(forwards.filter((_, i) => started[i]!.status === 'fulfilled').map((f) => f.stop()));
  const reason = (started[failed] as PromiseRejectedResult).reason as unknown;
  throw new ForwardStartError(reason instanceof Error ? reason.message : String(reason), specs[failed]!);
}

/** A forward that could not listen (its port is taken, in all likelihood: it binds nothing else). */
class ForwardStartError extends Error {
  constructor(
    message: string,
    readonly spec: ForwardSpec,
  ) {
    super(message);
  }
}

/** The console on 5005 + the recorded offset, beside the forwards (docs/architecture.md, "Console"); the forwards run without it. */
async function serveConsole(stateDir: string): Promise<void> {
  const record = readClusterRecord(stateDir);
  if (!record) return;
  try {
    const { startRuntimeConsole } = await import('../../console/host.js');
    const running = await startRuntimeConsole({ runtime: record.runtime, stateDir, port: CONSOLE_BASE_PORT + record.portOffset });
    writeConsoleUrl(stateDir, running.url);
    log('info', `console on ${running.url}`);
  } catch (err) {
    log('warn', `the console could not start: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function main(argv: string[]): Promise<void> {
  const at = argv.indexOf('--state-dir');
  const stateDir = at >= 0 ? argv[at + 1] : undefined;
  const record = stateDir ? readForwarderRecord(stateDir) : undefined;
  if (!stateDir || !record) {
    process.stderr.write('usage: forwarder.js --state-dir <dir> (with the forwarder.json startForwarder writes)\n');
    process.exit(2);
  }
  const { forwards: specs, kubeconfigPath, context } = record.plan;
  const states = new StatesWriter(stateDir, specs);
  log('info', `forwarder starting: ${specs.map((s) => `${s.name} 127.0.0.1:${s.localPort} -> ${s.namespace}/${s.service}:${s.port}`).join(', ')}`);
  let forwards: ServiceForward[] = [];
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    log('info', `stopping (${why})`);
    void Promise.all(forwards.map((f) => f.stop())).then(() => {
      states.save(true);
      log('info', 'stopped');
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => undefined);
  // A bug must not leave forwards that look alive: say so in the log and exit, so status shows them stopped.
  const crash = (err: unknown) => {
    log('error', `internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  try {
    forwards = await openForwards(specs, states, { kubeconfigPath, context });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof ForwardStartError) states.failed(message, err.spec, / is taken/.test(message));
    else states.failed(message);
    log('error', `cannot start the forwards: ${message}`);
    process.exit(1);
  }
  // The console before "listening": startForwarder resolves on that, and `up` then names
  // the console in its endpoints when it runs (console.json).
  await serveConsole(stateDir);
  states.listening();
  log('info', 'every forward listens');
}

await main(process.argv.slice(2));
