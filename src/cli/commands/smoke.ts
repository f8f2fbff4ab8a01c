/**
 * `ecom smoke`: the smoke suite against whatever runtime is up. Exit 1 on any failed
 * check; the human list, the JSON document and the JUnit file say which and why.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { Endpoints } from '../../core/system.js';
import type { Runtime } from '../../runtime/types.js';
import type { CheckDeadlines } from '../../smoke/checks.js';
import { toJUnitXml } from '../../smoke/junit.js';
import { formatReport, reportJson, summaryLine } from '../../smoke/report.js';
import { runSmokeSuite } from '../../smoke/suite.js';
import type { CheckResult } from '../../smoke/types.js';
import { EcomError, ExitCode } from '../../core/errors.js';
import { createOutput, type Output } from '../output.js';

export interface SmokeCommandOptions {
  cwd: string;
  json: boolean;
  junit?: string;
  /** Deadline for the whole suite, in milliseconds. */
  timeout: number;
  verbose?: boolean;
  runtime?: string;
}

export interface SmokeDeps {
  runtime?: Runtime;
  output?: Output;
  endpoints?: Endpoints;
  /** Per-check deadlines (tests shorten them). */
  deadlines?: Partial<CheckDeadlines>;
}

/** In plain mode, how often to say what is still running, so CI never waits silently. */
const STILL_WAITING_MS = 5_000;

export async function runSmoke(options: SmokeCommandOptions, deps: SmokeDeps = {}): Promise<number> {
  const output = deps.output ?? createOutput({ json: options.json });
  const endpoints = deps.endpoints ?? (await (await runtimeFor(options, deps.runtime)).endpoints());
  if (!endpoints) throw new EcomError('nothing is running, so there is nothing to check', 'start the system with `ecom up`');

  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort();
  process.once('SIGINT', onSignal);
  const pending = new Set<string>();
  const heartbeat =
    output.mode === 'tty'
      ? undefined
      : setInterval(() => pending.size > 0 && output.info(`smoke: still waiting for ${[...pending].join(', ')}`), STILL_WAITING_MS);
  heartbeat?.unref();
  if (output.mode !== 'tty') output.info(`smoke: checking the system at ${endpoints.services.frontend} and its services`);

  let report;
  try {
    report = await runSmokeSuite(endpoints, {
      timeoutMs: options.timeout,
      deadlines: deps.deadlines,
      signal: interrupt.signal,
      onStart: (check) => {
        pending.add(check.name);
        if (output.mode === 'tty') output.progress({ kind: 'start', task: check.name });
      },
      onResult: (result) => {
        pending.delete(result.name);
        if (output.mode === 'tty') output.progress(progressOf(result));
      },
    });
  } finally {
    process.removeListener('SIGINT', onSignal);
    if (heartbeat) clearInterval(heartbeat);
    output.endProgress({ clear: true });
  }

  const paint = await output.paint();
  output.result(formatReport(report, { symbols: output.mode === 'tty', paint }), reportJson(report, endpoints));
  if (options.junit) {
    const file = resolve(options.cwd, options.junit);
    try {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, toJUnitXml(report, hostname()));
    } catch (err) {
      throw new EcomError(`cannot write the JUnit report to ${file}: ${(err as Error).message}`, 'pass a writable path to --junit');
    }
    if (output.mode !== 'json') output.info(`JUnit report written to ${file}`);
  }
  if (output.mode === 'json') output.info(summaryLine(report));
  return report.ok ? ExitCode.ok : ExitCode.failed;
}

async function runtimeFor(options: SmokeCommandOptions, given: Runtime | undefined): Promise<Runtime> {
  if (given) return given;
  const { detectRuntime } = await import('../../runtime/detect.js');
  return (await detectRuntime({ cwd: options.cwd, name: options.runtime })).runtime;
}

function progressOf(result: CheckResult) {
  const task = result.name;
  if (result.status === 'passed') return { kind: 'done' as const, task, detail: result.message };
  if (result.status === 'skipped') return { kind: 'skip' as const, task, reason: result.message ?? 'not applicable' };
  return { kind: 'warn' as const, task, message: result.message ?? 'failed' };
}
