/**
 * bench/results.json: every figure of a run with the date and the machine it ran on.
 * A run of some benchmarks (`npm run bench catalog`) replaces those benchmarks' entries
 * and keeps the others, each with its own date, as long as the machine is the same.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import type { RecordedFigure } from './record.js';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGB: number;
  node: string;
  os: string;
}

export interface BenchEntry {
  name: string;
  /** The benchmark ran to the end and every figure met its goal. */
  ok: boolean;
  /** Why it did not run to the end, if it did not. */
  error: string | null;
  date: string;
  seconds: number;
  /** Load average (1 min) when it started: how busy the shared machine was. */
  load: number;
  figures: Omit<RecordedFigure, 'bench'>[];
}

export interface Results {
  date: string;
  machine: Machine;
  /** The command of the last run that wrote this file. */
  command: string;
  benches: BenchEntry[];
}

export function currentMachine(): Machine {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    os: `${process.platform} ${release()}`,
  };
}

export function currentLoad(): number {
  return Math.round(loadavg()[0]! * 100) / 100;
}

export function readResults(file: string): Results | null {
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Results;
  } catch {
    return null;
  }
}

/** The new entries in `order`, then the previous file's other entries if they came from the same machine. */
export function mergeResults(previous: Results | null, run: Omit<Results, 'benches'>, entries: BenchEntry[], order: string[]): Results {
  const sameMachine = previous && JSON.stringify(previous.machine) === JSON.stringify(run.machine);
  const byName = new Map<string, BenchEntry>();
  if (sameMachine) for (const e of previous.benches) byName.set(e.name, e);
  for (const e of entries) byName.set(e.name, e);
  const rank = (name: string) => (order.includes(name) ? order.indexOf(name) : order.length);
  const benches = [...byName.values()].sort((a, b) => rank(a.name) - rank(b.name));
  return { ...run, benches };
}

export function writeResults(file: string, results: Results): void {
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
}

export function figuresOf(bench: string, all: readonly RecordedFigure[]): BenchEntry['figures'] {
  return all.filter((f) => f.bench === bench).map(({ bench: _bench, ...rest }) => rest);
}
