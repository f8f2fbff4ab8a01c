/**
 * The supervisor's dependencies: embedded PostgreSQL, the broker (given, own node or a
 * local one) and Prometheus, each started concurrently and recorded in the state it
 * shares with the supervisor; stopped together after the services. PostgreSQL, our own
 * broker node and Prometheus are supervised processes: restarted with back-off when
 * they die, their restarts recorded for `ecom status`.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { orOnTimeout, pollUntil } from '../../core/poll.js';
import { postgresCanReach } from './access.js';
import { OwnRabbitNode, RABBIT_BOOT_TIMEOUT_MS, chooseBroker, type BrokerChoice } from './broker.js';
import { freePort } from './embedded-postgres.js';
import { initialisePostgres, postgresLaunch, postgresReady } from './postgres-process.js';
import { appendToLog } from './log-files.js';
import { fallbackDataRoot, postgresDataDir, stateId, type StatePaths } from './paths.js';
import { PROMETHEUS_BASE_PORT, RABBITMQ_MANAGEMENT_BASE_PORT, preferredOrFreePort, shiftedPort } from './ports.js';
import { findPrometheus, prometheusArgs, prometheusConfig } from './prometheus.js';
import { LOCAL_BROKER_URL, amqpAnswers, findRabbitmqServer } from './rabbitmq.js';
import type { Secrets } from './secrets.js';
import { redactUrl, type LocalState, type Plan, type RestartRecord } from './state.js';
import { SupervisedProcess } from './supervised.js';

const DEPENDENCY_GRACE_MS = 20_000;
const POSTGRES_START_TIMEOUT_MS = 60_000;
const POSTGRES_POLL_MS = 100;
const PROMETHEUS_READY_TIMEOUT_MS = 30_000;
const PROMETHEUS_POLL_MS = 100;
const PROMETHEUS_GRACE_MS = 5_000;

/** What the dependencies share with the supervisor. */
export interface SupervisorContext {
  paths: StatePaths;
  plan: Plan;
  /** Mutated in place; `save` writes it out. */
  state: LocalState;
  save: () => void;
  stopping: () => boolean;
  log: (message: string) => void;
}

export interface BrokerStart {
  choice: Promise<BrokerChoice>;
  /** Resolves when the broker is usable (or known to be missing or failed). */
  ready: Promise<void>;
  node: () => OwnRabbitNode | undefined;
}

/** Our PostgreSQL, as the services reach it. */
export interface PostgresServer {
  url: string;
}

export class Dependencies {
  private postgresProcess: SupervisedProcess | undefined;
  private postgresStarting: Promise<PostgresServer | undefined> | undefined;
  private rabbit: OwnRabbitNode | undefined;
  /** Restarts of our node whose coming back is already awaited. */
  private nodeRestartsAwaited = 0;
  private prometheusProcess: SupervisedProcess | undefined;

  constructor(private readonly ctx: SupervisorContext) {}

  get prometheus(): SupervisedProcess | undefined {
    return this.prometheusProcess;
  }

  /** The data directory PostgreSQL gets; with new secrets the old data is unusable and removed. */
  preparePostgresDir(secretsAreNew: boolean): string {
    const { paths, state } = this.ctx;
    mkdirSync(paths.stateDir, { recursive: true });
    const reachable = postgresCanReach(paths.stateDir);
    if (!reachable) mkdirSync(fallbackDataRoot(paths.stateDir), { recursive: true, mode: 0o711 });
    const dataDir = postgresDataDir(paths.stateDir, reachable);
    // Data initialised with a password we no longer have is unusable; it is ours to remove.
    if (secretsAreNew) rmSync(dataDir, { recursive: true, force: true });
    state.postgres.dataDir = dataDir;
    return dataDir;
  }

  startPostgres(dataDir: string, secrets: Secrets): Promise<PostgresServer | undefined> {
    this.postgresStarting = this.bootPostgres(dataDir, secrets);
    return this.postgresStarting;
  }

  /** initdb when needed, then the server as a supervised process on a port kept across its restarts. */
  private async bootPostgres(dataDir: string, secrets: Secrets): Promise<PostgresServer | undefined> {
    const { paths, state, log } = this.ctx;
    const logFile = join(paths.logsDir, 'postgres.log');
    try {
      const port = await freePort();
      state.postgres.port = port;
      await initialisePostgres(dataDir, secrets.postgresPassword, (l) => appendToLog(logFile, l.endsWith('\n') ? l : `${l}\n`));
      if (this.ctx.stopping()) return undefined;
      const launch = await postgresLaunch(dataDir, port);
      const url = `postgres://postgres:${encodeURIComponent(secrets.postgresPassword)}@127.0.0.1:${port}/postgres`;
      const proc = new SupervisedProcess({ name: 'postgres', ...launch, logFile, markers: [dataDir], onChange: () => this.recordPostgres(), log });
      this.postgresProcess = proc;
      proc.start();
      const ready = pollUntil(() => (proc.state === 'stopped' ? false : postgresReady(dataDir, proc.pid) ? true : undefined), {
        what: 'PostgreSQL to answer',
        timeoutMs: POSTGRES_START_TIMEOUT_MS,
        intervalMs: POSTGRES_POLL_MS,
      });
      if (!(await orOnTimeout(ready, false))) throw new Error(`no answer on 127.0.0.1:${port} within ${POSTGRES_START_TIMEOUT_MS / 1000} s; see logs/postgres.log`);
      Object.assign(state.postgres, { phase: 'running', startedAt: new Date().toISOString() });
      log(`postgres running on 127.0.0.1:${port} (data ${dataDir})`);
      this.recordPostgres();
      return { url };
    } catch (err) {
      Object.assign(state.postgres, { phase: 'failed', error: (err as Error).message });
      log(`[error] postgres failed: ${(err as Error).message}`);
      await this.postgresProcess?.stop(DEPENDENCY_GRACE_MS, 'SIGINT');
      this.ctx.save();
      return undefined;
    }
  }

  /** The supervised server's pid and restarts, into the shared state. */
  private recordPostgres(): void {
    const proc = this.postgresProcess;
    if (!proc) return;
    Object.assign(this.ctx.state.postgres, { process: proc.owned, ...restartsOf(proc) });
    this.ctx.save();
  }

  startBroker(secrets: Secrets): BrokerStart {
    const { paths, plan } = this.ctx;
    const script = plan.amqpUrl ? undefined : findRabbitmqServer();
    let node: OwnRabbitNode | undefined;
    const choice = (async () => {
      if (script) {
        const [amqpPort, distPort] = [await freePort(), await freePort()];
        const epmdPort = await distinctFreePort([amqpPort, distPort]);
        const plannedManagementPort = shiftedPort(RABBITMQ_MANAGEMENT_BASE_PORT, plan.portOffset);
        const managementPort = await preferredOrFreePort(plannedManagementPort, [amqpPort, distPort, epmdPort]);
        this.ctx.state.broker.managementPlannedPort = plannedManagementPort;
        const dir = paths.rabbitDir;
        const nodePlan = { dir, nodeName: `ecom-${stateId(paths.stateDir)}@localhost`, amqpPort, distPort, managementPort, epmdPort, user: secrets.brokerUser, password: secrets.brokerPassword };
        node = new OwnRabbitNode(nodePlan, script, join(paths.logsDir, 'rabbitmq.log'));
      }
      const probeLocal = () => amqpAnswers(LOCAL_BROKER_URL, 1_500);
      return chooseBroker({ givenUrl: plan.amqpUrl, rabbitmqServer: script, probeLocal }, () => node!.url);
    })();
    const ready = choice.then((c) => this.recordBroker(c, node));
    return { choice, ready, node: () => node };
  }

  private async recordBroker(c: BrokerChoice, node: OwnRabbitNode | undefined): Promise<void> {
    const broker = this.ctx.state.broker;
    const url = new URL(c.url);
    Object.assign(broker, { kind: c.kind, url: redactUrl(c.url), host: url.hostname, port: Number(url.port || 5672), detail: c.detail });
    if (c.kind === 'own' && node) return this.startOwnNode(node);
    if (c.kind === 'given') {
      const answers = await amqpAnswers(c.url, 3_000);
      broker.phase = answers ? 'running' : 'unreachable';
    } else {
      broker.phase = c.kind === 'local' ? 'running' : 'missing';
    }
    this.ctx.log(`broker: ${c.kind} (${broker.phase}) ${redactUrl(c.url)}`);
    this.ctx.save();
  }

  private async startOwnNode(node: OwnRabbitNode): Promise<void> {
    const { state, log } = this.ctx;
    if (this.ctx.stopping()) return;
    this.rabbit = node;
    node.start(process.env, { onChange: () => this.recordNode(node), log });
    log(`rabbitmq node ${node.plan.nodeName} starting (pid ${node.process?.pid})`);
    Object.assign(state.broker, { nodeName: node.plan.nodeName, managementUrl: node.managementUrl, process: node.process, epmdPort: node.plan.epmdPort, startedAt: new Date().toISOString() });
    this.ctx.save();
    const ok = await node.ready(Date.now() + RABBIT_BOOT_TIMEOUT_MS);
    if (this.ctx.stopping()) return;
    if (ok) {
      Object.assign(state.broker, { phase: 'running', vm: node.vm });
      log(`rabbitmq node ${node.plan.nodeName} ready on 127.0.0.1:${node.plan.amqpPort}`);
    } else {
      Object.assign(state.broker, { phase: 'failed', error: `node ${node.plan.nodeName} did not accept connections; see logs/rabbitmq.log` });
      log(`[error] rabbitmq node ${node.plan.nodeName} failed to start`);
      await node.stop(5_000);
      state.broker.process = undefined;
    }
    this.ctx.save();
  }

  /**
   * The node's script pid and restarts, into the shared state. After a restart the VM
   * is a new process: it is recorded once the node answers again.
   */
  private recordNode(node: OwnRabbitNode): void {
    const broker = this.ctx.state.broker;
    const proc = node.supervised;
    if (!proc) return;
    Object.assign(broker, { process: node.process, ...restartsOf(proc) });
    if (proc.state === 'restarting') Object.assign(broker, { vm: undefined });
    if (proc.state === 'running' && proc.restarts > this.nodeRestartsAwaited) {
      this.nodeRestartsAwaited = proc.restarts;
      void this.awaitRestartedNode(node);
    }
    this.ctx.save();
  }

  private async awaitRestartedNode(node: OwnRabbitNode): Promise<void> {
    const broker = this.ctx.state.broker;
    broker.phase = 'starting';
    const ok = await node.ready(Date.now() + RABBIT_BOOT_TIMEOUT_MS);
    if (this.ctx.stopping()) return;
    Object.assign(broker, ok ? { phase: 'running', vm: node.vm } : { phase: 'failed', error: `node ${node.plan.nodeName} did not come back; see logs/rabbitmq.log` });
    this.ctx.log(`rabbitmq node ${node.plan.nodeName} ${ok ? 'answers again after its restart' : 'did not come back after its restart'}`);
    this.ctx.save();
  }

  async startPrometheus(): Promise<void> {
    const { paths, plan, state } = this.ctx;
    const binary = findPrometheus();
    if (!binary) {
      state.prometheus = { phase: 'missing', error: 'prometheus is not installed' };
      this.ctx.save();
      return;
    }
    const dir = paths.prometheusDir;
    mkdirSync(join(dir, 'data'), { recursive: true });
    writeFileSync(join(dir, 'prometheus.yml'), prometheusConfig(plan.ports));
    const plannedPort = PROMETHEUS_BASE_PORT + plan.portOffset;
    const port = await preferredOrFreePort(shiftedPort(PROMETHEUS_BASE_PORT, plan.portOffset), Object.values(plan.ports));
    const url = `http://127.0.0.1:${port}`;
    if (port !== plannedPort) this.ctx.log(`prometheus: planned port ${plannedPort} is not usable; using ${port}`);
    if (this.ctx.stopping()) return;
    this.prometheusProcess = new SupervisedProcess({
      name: 'prometheus',
      command: binary,
      args: prometheusArgs(dir, port),
      env: process.env,
      logFile: join(paths.logsDir, 'prometheus.log'),
      markers: [dir],
      onChange: () => {
        Object.assign(state.prometheus, restartsOf(this.prometheusProcess!));
        this.ctx.save();
      },
      log: this.ctx.log,
    });
    Object.assign(state.prometheus, { port, url, plannedPort });
    this.prometheusProcess.start();
    await this.waitForPrometheus(url);
  }

  private async waitForPrometheus(url: string): Promise<void> {
    const state = this.ctx.state;
    const ready = pollUntil(
      async () => (this.ctx.stopping() ? false : (await answers(`${url}/-/ready`)) ? true : undefined),
      { what: 'Prometheus to be ready', timeoutMs: PROMETHEUS_READY_TIMEOUT_MS, intervalMs: PROMETHEUS_POLL_MS },
    );
    if (await orOnTimeout(ready, false)) {
      Object.assign(state.prometheus, { phase: 'running', startedAt: new Date().toISOString() });
      this.ctx.save();
      return;
    }
    state.prometheus.phase = 'failed';
    state.prometheus.error = `not ready within ${PROMETHEUS_READY_TIMEOUT_MS / 1000} s; see logs/prometheus.log`;
    this.ctx.save();
  }

  /** Stops Prometheus, the broker node and PostgreSQL together (after the services). */
  async stop(): Promise<void> {
    await this.postgresStarting;
    await Promise.all([
      this.prometheusProcess?.stop(PROMETHEUS_GRACE_MS),
      this.rabbit?.stop(DEPENDENCY_GRACE_MS),
      // SIGINT is PostgreSQL's fast shutdown; SIGTERM would wait for clients.
      this.postgresProcess?.stop(DEPENDENCY_GRACE_MS, 'SIGINT'),
    ]);
  }
}

/** A free port other than those in `avoid` (the kernel rarely hands out the same one twice). */
async function distinctFreePort(avoid: number[]): Promise<number> {
  for (let i = 0; i < 5; i++) {
    const port = await freePort();
    if (!avoid.includes(port)) return port;
  }
  throw new Error('no free port for epmd');
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    return res.ok;
  } catch {
    return false;
  }
}

/** What a state record keeps of a supervised part's restarts. */
function restartsOf(proc: SupervisedProcess): RestartRecord {
  return proc.lastRestart ? { restarts: proc.restarts, lastRestart: proc.lastRestart } : { restarts: proc.restarts };
}
