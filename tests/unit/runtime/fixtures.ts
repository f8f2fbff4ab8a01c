import { join } from 'node:path';
import type { LocalState } from '../../../src/runtime/local/state.js';

/** A state file as the supervisor writes it, with made-up pids. */
export function sampleState(stateDir: string): LocalState {
  const svc = (port: number, pid: number) => ({ state: 'running' as const, port, url: `http://127.0.0.1:${port}`, restarts: 0, process: { pid, markers: ['main.js', stateDir] } });
  return {
    version: 1,
    runtime: 'local',
    stateDir,
    phase: 'running',
    portOffset: 0,
    supervisor: { pid: 10, markers: ['supervisor.js', stateDir], startedAt: '2026-01-01T00:00:00.000Z' },
    postgres: { phase: 'running', port: 40000, dataDir: join(stateDir, 'postgres'), process: { pid: 20, markers: [join(stateDir, 'postgres')] } },
    broker: { kind: 'own', phase: 'running', detail: 'own', process: { pid: 30, markers: [stateDir] }, vm: { pid: 31, markers: [stateDir] } },
    prometheus: { phase: 'running', port: 9090, url: 'http://127.0.0.1:9090', process: { pid: 40, markers: [stateDir] } },
    services: { catalog: svc(5001, 1), search: svc(5002, 2), order: svc(5003, 3), frontend: svc(5004, 4) },
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
}
