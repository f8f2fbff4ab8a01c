/**
 * The broker of the local runtime, chosen in this order (docs/architecture.md, "local"): the URL the user gave;
 * else a RabbitMQ node of our own when rabbitmq-server is installed; else a broker
 * already answering on 127.0.0.1:5672; else none (orders wait in the outbox).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { orOnTimeout, pollUntil } from '../../core/poll.js';
import type { BrokerKind, OwnedProcess } from './state.js';
import { commandLine, isOurs, stopOwned } from '../../core/processes.js';
import { SupervisedProcess } from './supervised.js';
import { childPids, stopEpmdOn } from './proc.js';
import { LOCAL_BROKER_URL, amqpUrlFor, prepareRabbitNode, rabbitEnv, waitForAmqp, type RabbitNodePlan } from './rabbitmq.js';

export interface BrokerChoice {
  kind: BrokerKind;
  /** What services get as AMQP_URL (with none: the well-known local address, so a broker started later is found). */
  url: string;
  detail: string;
}

export interface BrokerInputs {
  givenUrl?: string;
  rabbitmqServer?: string;
  /** Whether a broker answers on 127.0.0.1:5672 with guest/guest; only asked when needed. */
  probeLocal: () => Promise<boolean>;
}

export async function chooseBroker(inputs: BrokerInputs, ownUrl: () => string): Promise<BrokerChoice> {
  if (inputs.givenUrl) return { kind: 'given', url: inputs.givenUrl, detail: 'given by --amqp-url/AMQP_URL' };
  if (inputs.rabbitmqServer) return { kind: 'own', url: ownUrl(), detail: `own RabbitMQ node (${inputs.rabbitmqServer})` };
  if (await inputs.probeLocal()) return { kind: 'local', url: LOCAL_BROKER_URL, detail: 'RabbitMQ already answering on 127.0.0.1:5672' };
  return {
    kind: 'none',
    url: LOCAL_BROKER_URL,
    detail: 'no broker: orders wait in the outbox (install rabbitmq-server or pass --amqp-url)',
  };
}

export const RABBIT_BOOT_TIMEOUT_MS = 90_000;
const BOOT_LOG_POLL_MS = 100;
/** epmd exits at once on SIGTERM; SIGKILL after this. */
export const EPMD_GRACE_MS = 2_000;
/** RabbitMQ 3.x logs this when the core boot steps begin, about a second before its listeners open. */
export const RABBIT_LATE_BOOT_MARK = 'Running boot step pre_boot';

function logShows(file: string, text: string): boolean {
  try {
    return readFileSync(file, 'utf8').includes(text);
  } catch {
    return false;
  }
}

/** What the supervisor hears from its node: every state change, and its log lines. */
export interface NodeHooks {
  onChange: () => void;
  log: (message: string) => void;
}

/**
 * A RabbitMQ node of our own, run through the rabbitmq-server script (which forwards
 * SIGTERM to the VM), supervised like every other part: restarted with back-off when
 * it dies (supervised.ts), on the same ports, node name and data, so clients reconnect
 * to the same URL and durable queues keep their messages.
 */
export class OwnRabbitNode {
  private proc: SupervisedProcess | undefined;
  /** The VM last seen under the script: killed before a restart if it outlived its script. */
  private lastVm: OwnedProcess | undefined;

  constructor(
    readonly plan: RabbitNodePlan,
    private readonly script: string,
    private readonly logFile: string,
  ) {}

  get url(): string {
    return amqpUrlFor(this.plan);
  }

  get managementUrl(): string {
    return `http://127.0.0.1:${this.plan.managementPort}/`;
  }

  /** The supervised script (restarts, last exit). */
  get supervised(): SupervisedProcess | undefined {
    return this.proc;
  }

  /** The script's pid while it runs; its environment carries our directory. */
  get process(): OwnedProcess | undefined {
    const owned = this.proc?.owned;
    return owned ? { pid: owned.pid, markers: [this.plan.dir] } : undefined;
  }

  /** The Erlang VM under the script (found once the node runs). */
  get vm(): OwnedProcess | undefined {
    const pid = this.proc?.owned?.pid;
    if (!pid) return undefined;
    const vmPid = childPids(pid).find((c) => commandLine(c)?.includes('beam'));
    if (vmPid) this.lastVm = { pid: vmPid, markers: [this.plan.dir] };
    return vmPid ? this.lastVm : undefined;
  }

  start(baseEnv: NodeJS.ProcessEnv, hooks: NodeHooks = { onChange: () => {}, log: () => {} }): void {
    prepareRabbitNode(this.plan);
    this.proc = new SupervisedProcess({
      name: 'broker',
      command: this.script,
      args: [],
      env: rabbitEnv(this.plan, baseEnv),
      cwd: this.plan.dir,
      logFile: this.logFile,
      markers: [this.plan.dir],
      descendants: () => (this.vm ? [this.vm.pid] : []),
      beforeRestart: () => this.stopOrphanedVm(),
      onChange: hooks.onChange,
      log: hooks.log,
    });
    this.proc.start();
  }

  /** True once an AMQP handshake with our credentials succeeds; false if the node was stopped or time ran out. */
  ready(deadline: number): Promise<boolean> {
    return waitForAmqp(this.url, deadline, () => this.proc !== undefined && this.proc.state !== 'stopped');
  }

  /**
   * Resolves about a second before the node accepts connections: when its log shows
   * the last stretch of the boot (RABBIT_LATE_BOOT_MARK), or when `settled` does.
   * Only a hint for when to start clients; readiness is still `ready()`.
   */
  async nearlyReady(settled: Promise<unknown>): Promise<void> {
    let done = false;
    void settled.finally(() => (done = true));
    const logFile = join(this.plan.dir, 'log', `${this.plan.nodeName}.log`);
    const seen = () => (done || this.proc?.state === 'stopped' || logShows(logFile, RABBIT_LATE_BOOT_MARK) ? true : undefined);
    // `settled` is ready(), itself bounded by the boot timeout; this bound only guards a bug there.
    const what = 'the node to near the end of its boot';
    await orOnTimeout(pollUntil(seen, { what, timeoutMs: RABBIT_BOOT_TIMEOUT_MS, intervalMs: BOOT_LOG_POLL_MS }), undefined);
  }

  /**
   * SIGTERM to the script (graceful node stop), SIGKILL to script and VM after `graceMs`;
   * then our private epmd, which the VM started detached and which would outlive it.
   */
  async stop(graceMs: number): Promise<void> {
    if (!this.proc) return;
    await this.proc.stop(graceMs);
    await this.stopOrphanedVm();
    await stopEpmdOn(this.plan.epmdPort, { graceMs: EPMD_GRACE_MS });
  }

  /** A VM whose script was killed still holds the node name and ports: it must go first. */
  private async stopOrphanedVm(): Promise<void> {
    if (this.lastVm && isOurs(this.lastVm)) await stopOwned(this.lastVm, { signal: 'SIGKILL', graceMs: EPMD_GRACE_MS });
  }
}
