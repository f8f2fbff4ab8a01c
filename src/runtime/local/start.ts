/**
 * `up` for the local runtime: reuse a healthy system, or clear leftovers, check the
 * ports, start the detached supervisor, and wait (bounded, never silently) until
 * every service answers /health.
 */
import { spawn } from 'node:child_process';
import { closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EcomError, PrerequisiteError, TimeoutError } from '../../core/errors.js';
import { pollUntil } from '../../core/poll.js';
import { SERVICE_NAMES, type ServiceName } from '../../core/system.js';
import type { UpOptions, UpResult } from '../types.js';
import { probeHealth, tcpAnswers, type HealthProbe } from '../../core/health-probe.js';
import { ensureLogsDir, openLogForAppend } from './log-files.js';
import { builtFiles, missingBuiltFiles, type StatePaths } from './paths.js';
import { assertServicePortsFree, servicePorts } from './ports.js';
import { isOurs } from '../../core/processes.js';
import { resolveLogLevel } from './service-env.js';
import { anythingAlive, endpointsOf, supervisorStatus } from './status.js';
import { readPlan, readState, removeState, writeJsonAtomic, type LocalState, type Plan } from './state.js';
import { stopLeftovers } from './stop.js';
import { describeWaiting, pendingItems, UpProgress, upWarnings, type Pending } from './up-progress.js';

const POLL_MS = 100;
const WAITING_EVERY_MS = 5_000;
/** With no state file and no supervisor output after this long, the supervisor never started. */
const SUPERVISOR_START_TIMEOUT_MS = 10_000;
const LOG_LINES_ON_FAILURE = 10;

/** What only the local runtime is told (its constructor's settings). */
export interface LocalUpSettings {
  /** The broker to use instead of starting one. */
  amqpUrl?: string;
}

/**
 * The port offset this `up` uses: the one asked for; without one, that of the system
 * already up here (so a bare `ecom up` finds it up), else 0. Only an explicitly
 * different offset is refused, by `localUp`.
 */
export function plannedPortOffset(asked: number | undefined, runningOffset: number | undefined): number {
  return asked ?? runningOffset ?? 0;
}

export async function localUp(paths: StatePaths, options: UpOptions, settings: LocalUpSettings = {}): Promise<UpResult> {
  const started = Date.now();
  ensureLogsDir(paths.logsDir);
  const existing = readState(paths.stateFile);
  const alive = existing !== undefined && anythingAlive(existing);
  const offset = plannedPortOffset(options.portOffset, alive ? existing.portOffset : undefined);
  // Like the port offset, a bare `up` replacing what a dead supervisor left keeps its log level.
  const logLevel = resolveLogLevel(options.logLevel ?? (alive ? readPlanIfAny(paths.planFile)?.logLevel : undefined), process.env);
  const ports = servicePorts(offset);
  if (existing && isOurs(existing.supervisor) && ['starting', 'running'].includes(existing.phase)) {
    assertSamePorts(existing, ports);
    assertSameLogLevel(existing, readPlanIfAny(paths.planFile), options.logLevel);
    const [probes, broker] = await Promise.all([probeAll(existing), brokerAnswers(existing)]);
    if (pendingItems(existing, probes, broker).length === 0) {
      return { alreadyUp: true, endpoints: endpointsOf(existing), warnings: upWarnings(existing, broker) };
    }
    options.progress({ kind: 'waiting', task: 'up', reason: 'started by an earlier `ecom up`; waiting for it', overall: true });
    return waitUntilReady(paths, options, started);
  }
  if (existing && anythingAlive(existing)) {
    // Replaced rather than adopted: a new supervisor could not wait() on processes it did
    // not start, nor hand them back their wiring; a clean start costs one `up` (~10 s).
    options.progress({ kind: 'warn', task: 'up', message: leftoverMessage(existing) });
    await stopLeftovers(existing);
  }
  removeState(paths.stateFile);
  await assertServicePortsFree(ports);
  const plan: Plan = { portOffset: offset, ports, logLevel, createdAt: new Date().toISOString() };
  if (settings.amqpUrl) plan.amqpUrl = settings.amqpUrl;
  startSupervisor(paths, plan);
  return waitUntilReady(paths, options, started);
}

function assertSamePorts(state: LocalState, ports: Record<ServiceName, number>): void {
  const running = SERVICE_NAMES.map((s) => state.services[s].port);
  if (SERVICE_NAMES.every((s, i) => ports[s] === running[i])) return;
  throw new EcomError(
    `ecom is already up here on ports ${running.join(', ')} (port offset ${state.portOffset})`,
    `run \`ecom down\` first, or run \`ecom up\` without --port-offset (or with --port-offset ${state.portOffset})`,
  );
}

/** Says what is left and why it is stopped: a supervisor that died leaves its parts running, unsupervised. */
function leftoverMessage(state: LocalState): string {
  const supervisor = supervisorStatus(state);
  if (supervisor.state === 'running') return 'stopping what a previous run left behind';
  const what = supervisor.orphans.length ? supervisor.orphans.join(', ') : 'what it started';
  return `the supervisor (pid ${supervisor.pid}) is gone; stopping what it left running (${what}), then starting everything again`;
}

/** The services' log level is fixed while the system runs: another one needs `ecom down` first. */
function assertSameLogLevel(state: LocalState, plan: Plan | undefined, asked: string | undefined): void {
  const running = plan?.logLevel ?? 'info';
  if (asked === undefined || asked === running) return;
  throw new EcomError(
    `ecom is already up here with --log-level ${running}`,
    `run \`ecom down\` and then \`ecom up --log-level ${asked}\`, or run \`ecom up\` without --log-level`,
  );
}

function readPlanIfAny(file: string): Plan | undefined {
  try {
    return readPlan(file);
  } catch {
    return undefined;
  }
}

function startSupervisor(paths: StatePaths, plan: Plan): void {
  const files = builtFiles();
  const missing = missingBuiltFiles(files);
  if (missing.length > 0) {
    throw new PrerequisiteError(`ecom is not built: ${missing[0]} is missing`, `run \`npm run build\` in ${files.root}`);
  }
  writeJsonAtomic(paths.planFile, plan);
  const out = openLogForAppend(paths.supervisorLog);
  try {
    const child = spawn(process.execPath, [files.supervisor, '--state-dir', paths.stateDir], {
      detached: true,
      stdio: ['ignore', out, out],
      cwd: paths.stateDir,
      env: process.env,
    });
    child.unref();
  } finally {
    closeSync(out);
  }
}

/** Whether a broker the state calls running still takes connections (true when there is nothing to ask). */
async function brokerAnswers(state: LocalState): Promise<boolean> {
  const b = state.broker;
  if (b.phase !== 'running' || !b.host || !b.port) return true;
  return tcpAnswers(b.host, b.port);
}

async function probeAll(state: LocalState): Promise<Record<ServiceName, HealthProbe>> {
  const probes = await Promise.all(SERVICE_NAMES.map((s) => probeHealth(state.services[s].url)));
  return Object.fromEntries(SERVICE_NAMES.map((s, i) => [s, probes[i]!])) as Record<ServiceName, HealthProbe>;
}

async function waitUntilReady(paths: StatePaths, options: UpOptions, started: number): Promise<UpResult> {
  const progress = new UpProgress(options.progress);
  let lastWaiting = Date.now();
  let pending: Pending[] = [{ what: 'supervisor', why: 'no state written yet' }];
  const healthy = async (): Promise<UpResult | undefined> => {
    const state = readState(paths.stateFile);
    if (!state) {
      if (Date.now() - started > SUPERVISOR_START_TIMEOUT_MS && !readSupervisorLogTail(paths).length) {
        throw new EcomError('the supervisor did not start', `see ${paths.supervisorLog}`);
      }
      return undefined;
    }
    if (state.phase === 'failed' || !isOurs(state.supervisor)) throw supervisorFailed(paths, state);
    const [probes, broker] = await Promise.all([probeAll(state), brokerAnswers(state)]);
    progress.update(state, probes);
    pending = pendingItems(state, probes, broker);
    if (pending.length === 0) {
      // No `up: done (every service is healthy)`: the command's last line says it.
      return { alreadyUp: false, endpoints: endpointsOf(state), warnings: upWarnings(state, broker) };
    }
    if (Date.now() - lastWaiting >= WAITING_EVERY_MS) {
      lastWaiting = Date.now();
      options.progress({ kind: 'waiting', task: 'up', reason: describeWaiting(pending), overall: true });
    }
    return undefined;
  };
  const timeoutMs = Math.max(0, started + options.timeoutMs - Date.now());
  try {
    return await pollUntil(healthy, { what: 'every service to be healthy', timeoutMs, intervalMs: POLL_MS });
  } catch (err) {
    // pollUntil's own message cannot name the log lines that say why; this one does.
    if (err instanceof TimeoutError) throw timedOut(paths, options.timeoutMs, pending);
    throw err;
  }
}

function readSupervisorLogTail(paths: StatePaths): string[] {
  return tailOf(paths.supervisorLog, LOG_LINES_ON_FAILURE);
}

function tailOf(file: string, n: number): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').slice(-n);
  } catch {
    return [];
  }
}

function indent(lines: string[]): string {
  return lines.map((l) => `    ${l.length > 300 ? `${l.slice(0, 300)}…` : l}`).join('\n');
}

function supervisorFailed(paths: StatePaths, state: LocalState): EcomError {
  const why = state.error ?? 'the supervisor exited';
  const lines = readSupervisorLogTail(paths);
  const shown = lines.length ? `; last lines of ${paths.supervisorLog}:\n${indent(lines)}` : '';
  return new EcomError(`up failed: ${why}${shown}`, 'fix the cause above and run `ecom up` again (`ecom down` clears what is left)');
}

function timedOut(paths: StatePaths, timeoutMs: number, pending: Pending[]): TimeoutError {
  const culprit = notReadyPart(pending);
  const others = pending.filter((p) => p !== culprit);
  const file = ownLogOf(paths, culprit.what, readState(paths.stateFile));
  const lines = tailOf(file, LOG_LINES_ON_FAILURE);
  const also = others.length > 0 ? `; also waiting: ${describeWaiting(others)}` : '';
  const shown = lines.length ? `\nlast lines of ${file}:\n${indent(lines)}` : `\n(${file} has no lines yet)`;
  const logsCommand = SERVICE_NAMES.some((s) => s === culprit.what) ? `ecom logs ${culprit.what}` : `less ${file}`;
  return new TimeoutError(
    `not ready after ${Math.round(timeoutMs / 1000)} s: ${culprit.what} (${culprit.why})${also}${shown}`,
    `see \`ecom status\` and \`${logsCommand}\`; a longer --timeout may help; \`ecom down\` stops what was started`,
  );
}

/** The part that holds the others up: the first pending one that is not merely waiting for another part. */
export function notReadyPart(pending: Pending[]): Pending {
  const waitsForAnother = (p: Pending) => /^(starts when|waiting for) the broker/.test(p.why);
  return pending.find((p) => !waitsForAnother(p)) ?? pending[0]!;
}

/** The log a part writes itself: a service's, PostgreSQL's, the RabbitMQ node's own, Prometheus's; else the supervisor's. */
export function ownLogOf(paths: StatePaths, part: string, state: LocalState | undefined): string {
  const service = SERVICE_NAMES.find((s) => s === part);
  if (service) return paths.serviceLog(service);
  if (part === 'broker' && state?.broker.kind === 'own' && state.broker.nodeName) {
    // The node logs its boot to its own file; the script's output (logs/rabbitmq.log) holds warnings only.
    const nodeLog = join(paths.rabbitDir, 'log', `${state.broker.nodeName}.log`);
    if (tailOf(nodeLog, 1).length > 0) return nodeLog;
    return join(paths.logsDir, 'rabbitmq.log');
  }
  if (part === 'postgres' || part === 'prometheus') return join(paths.logsDir, `${part}.log`);
  return paths.supervisorLog;
}
